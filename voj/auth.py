"""Token endpoints: login, refresh, logout and the signed-in user.

Tokens are JWTs that carry a hash of the user's password hash (simplejwt's revoke claim), so a
password change or deactivation ends every token issued before it. A refresh token is used up
when it is refreshed (the answer carries a new one) or logged out; its id is kept as used in the
shared security state until it would have expired (voj/security/tokens.py).
"""

from __future__ import annotations

from typing import Any

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from voj.security.tokens import refresh_token_revoke, refresh_token_rotate


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    groups = serializers.SerializerMethodField()

    def get_groups(self, user: Any) -> list[str]:
        return sorted(group.name for group in user.groups.all())


class LoginOut(serializers.Serializer):
    access = serializers.CharField(help_text="Access token (JWT): send as `Authorization: Bearer`.")
    refresh = serializers.CharField(help_text="Refresh token (JWT): POST it to auth/refresh.")
    user = UserOut()


class RefreshOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text="A new refresh token: the one sent is used up.")


class LoginSerializer(TokenObtainPairSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {**super().validate(attrs), "user": UserOut(self.user).data}


# Answers that carry tokens or who the user is are never stored by a cache or a browser
# (RFC 6749 §5.1: Cache-Control no-store on token responses).
_never_stored = method_decorator(never_cache, name="dispatch")


@_never_stored
@extend_schema_view(post=extend_schema(responses={200: LoginOut}))
class LoginApi(TokenObtainPairView):
    serializer_class = LoginSerializer
    # simplejwt's TokenViewBase sets permission_classes = () unannotated: mypy reads tuple[()].
    permission_classes = [AllowAny]  # type: ignore[assignment]  # simplejwt's unannotated ()
    authentication_classes = ()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()
    access = serializers.CharField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        return refresh_token_rotate(attrs["refresh"])


@_never_stored
@extend_schema_view(post=extend_schema(responses={200: RefreshOut}))
class RefreshApi(TokenRefreshView):
    """Answers a new refresh token with the access token; the one sent is used up."""

    serializer_class = RefreshSerializer
    # simplejwt's TokenViewBase sets permission_classes = () unannotated: mypy reads tuple[()].
    permission_classes = [AllowAny]  # type: ignore[assignment]  # simplejwt's unannotated ()
    authentication_classes = ()


class LogoutIn(serializers.Serializer):
    refresh = serializers.CharField()


class LogoutApi(APIView):
    """Revokes the refresh token: it can no longer be refreshed. An access token already
    issued stays valid until it expires (15 minutes); a password change ends it at once."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # a bad token is a 401, as on refresh

    @extend_schema(request=LogoutIn, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = LogoutIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
        except TokenError as error:
            raise InvalidToken(error.args[0]) from None
        refresh_token_revoke(token)  # already revoked: logging out twice is not an error
        return Response(status=204)


@_never_stored
class MeApi(APIView):
    @extend_schema(responses=UserOut)
    def get(self, request: Request) -> Response:
        return Response(UserOut(request.user).data)
