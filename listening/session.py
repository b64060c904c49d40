"""The listener page's session (/listen/): the page keeps its access token in memory only, and
its refresh token in an HttpOnly cookie that no script can read and that is sent to these three
endpoints only (its Path). A reload signs the listener back in through ``refresh`` without
JavaScript ever seeing the refresh token.

The rules are the API's: sign-in is the API login (the same throttle, the same 401), refresh is
the API refresh (the token is used up and rotated), end is the API logout (revoked). Besides the
cookie's SameSite=Strict, every request must be JSON: a cross-site form cannot send that without
a CORS preflight, which this site never grants.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from voj.auth import LoginSerializer
from voj.security.tokens import RefreshTokenUsed, refresh_token_revoke, refresh_token_rotate

COOKIE = "voj_listen_refresh"
COOKIE_PATH = "/listen/session"


def _cookie_set(response: Response, refresh: str) -> Response:
    lifetime: timedelta = api_settings.REFRESH_TOKEN_LIFETIME
    response.set_cookie(
        COOKIE,
        refresh,
        max_age=int(lifetime.total_seconds()),
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,  # True in production
        httponly=True,
        samesite="Strict",
    )
    return response


def _cookie_clear(response: Response) -> Response:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="Strict")
    return response


class _SessionView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # a refused sign-in or refresh is a 401, as in the API

    def finalize_response(
        self, request: Request, response: Response, *args: object, **kwargs: object
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # it carries tokens
        return response

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        content_type = request.content_type.split(";")[0].strip().lower()
        if request.method == "POST" and content_type != "application/json":
            raise exceptions.UnsupportedMediaType(request.content_type or "none")


@extend_schema(exclude=True)  # the page's own endpoints: docs/listener-page.md
class SessionStartApi(_SessionView):
    """Sign in: the API login's answer, with the refresh token moved into the cookie."""

    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data, context={"request": request})
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as error:
            raise InvalidToken(error.args[0]) from None
        data = serializer.validated_data
        answer = Response({"access": data["access"], "user": data["user"]})
        return _cookie_set(answer, data["refresh"])


@extend_schema(exclude=True)
class SessionRefreshApi(_SessionView):
    """A new access token for the cookie's refresh token, which is used up and replaced."""

    def post(self, request: Request) -> Response:
        raw = request.COOKIES.get(COOKIE)
        if not raw:
            raise exceptions.NotAuthenticated("No listener session: sign in.")
        try:
            pair = refresh_token_rotate(raw)
        except TokenError as error:
            raise InvalidToken(error.args[0]) from None
        return _cookie_set(Response({"access": pair["access"]}), pair["refresh"])

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # A forged or expired token never works again: clear it. A token already used is
        # left alone: two tabs refreshing at once send the same cookie, and the loser's answer
        # may arrive after the winner's, whose new cookie a clearing would delete.
        if response.status_code == 401 and not isinstance(exc, RefreshTokenUsed):
            _cookie_clear(response)
        return response


@extend_schema(exclude=True)
class SessionEndApi(_SessionView):
    """Sign out: the cookie's refresh token is revoked and the cookie cleared. Without a cookie,
    or with one no longer valid, there is nothing left to end: 204 all the same."""

    def post(self, request: Request) -> Response:
        raw = request.COOKIES.get(COOKIE)
        if raw:
            with suppress(TokenError):  # expired or forged: it opens nothing
                refresh_token_revoke(RefreshToken(raw))  # type: ignore[arg-type]  # a JWT string
        return _cookie_clear(Response(status=204))
