"""Token authentication for the listener's hot path: no user row, but no stale token either.

simplejwt's stateless authentication trusts a valid token without the user's row, so on its own
it would keep answering a token issued before a password change or deactivation until the token
expires. This one also asks the shared security state whether the account changed within the
last access-token lifetime (voj/security/accounts.py): one read of a small item, instead of the
operator database.

The stream link named with its book and the progress report go one step further: their
authentication leaves that read to the view (``LaterAccountCheckAuthentication``), which makes
it alongside the catalogue's read of the book's head and the chapter, one DynamoDB request for
the three items (voj/item_reads.py), and checks it before anything about the book is answered.
``AccountCheckedInView`` checks every other method before its handler, and refuses to answer a
success until the check is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings

from voj.item_reads import ItemRead

from . import get_security_state
from .accounts import ENDED, account_key, account_recorded_claim


def _refuse_if_changed(recorded: str | None, validated_token: Any) -> None:
    if recorded is None:
        return
    if recorded == ENDED:
        raise AuthenticationFailed("User is inactive", code="user_inactive")
    if validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != recorded:
        raise AuthenticationFailed("The user's password has been changed.", "password_changed")


class CurrentTokenAuthentication(JWTStatelessUserAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        _refuse_if_changed(account_recorded_claim(user.pk), validated_token)
        return user


@dataclass
class AccountCheck:
    """CurrentTokenAuthentication's account check, made later in the request by the view."""

    user_id: Any
    token: Any
    read: ItemRead | None = None
    made: bool = False

    def alongside(self) -> ItemRead | None:
        """The account's record as an item for another DynamoDB request to read, or None where
        the security state is not DynamoDB (``verify`` then reads it)."""
        self.read = get_security_state().item_read(account_key(self.user_id))
        return self.read

    def verify(self) -> None:
        """AuthenticationFailed (401) if the account changed since the token was issued."""
        if self.read is not None and self.read.done:
            recorded = get_security_state().value_of(self.read)
        else:
            recorded = account_recorded_claim(self.user_id)
        _refuse_if_changed(recorded, self.token)
        self.made = True


class LaterAccountCheckAuthentication(CurrentTokenAuthentication):
    """The token's signature and expiry now, the account check later: ``request.user`` carries
    an ``account_check`` that the view makes (AccountCheckedInView)."""

    def get_user(self, validated_token: Any) -> Any:
        user: Any = JWTStatelessUserAuthentication.get_user(self, validated_token)
        user.account_check = AccountCheck(user_id=user.pk, token=validated_token)
        return user


class AccountCheckedInView:
    """A mixin for an APIView authenticated by LaterAccountCheckAuthentication.

    The methods in ``account_checked_by`` make the check in their handler, alongside its first
    read, and before anything else is answered; every other method (OPTIONS, one not allowed)
    is checked on its own before its handler runs. A success answered without the check is a
    bug, and fails instead of serving a token that may be revoked. A refused token leaves the
    request anonymous, as a refusal in authentication does, so the request's log line names no
    account."""

    authentication_classes: Sequence[type[BaseAuthentication]] = [LaterAccountCheckAuthentication]
    account_checked_by: frozenset[str] = frozenset()
    _account_check: AccountCheck | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if not request.user.is_authenticated:
            return
        self._account_check = self.account_check(request)
        by_handler = self.account_checked_by
        if "GET" in by_handler:
            by_handler |= {"HEAD"}  # Django answers HEAD with the GET handler
        if request.method not in by_handler:
            self._account_check.verify()

    @staticmethod
    def account_check(request: Request) -> AccountCheck:
        """The check LaterAccountCheckAuthentication left to the view."""
        check = getattr(request.user, "account_check", None)
        if not isinstance(check, AccountCheck):
            raise RuntimeError("the request's user carries no account check to make")
        return check

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exceptions.AuthenticationFailed):
            self.request.user = AnonymousUser()  # type: ignore[attr-defined]
            self.request.auth = None  # type: ignore[attr-defined]
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        check = self._account_check
        if check is not None and not check.made and response.status_code < 400:
            raise RuntimeError("answered without the token's account check")
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
