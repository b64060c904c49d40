"""Token authentication for the listener's hot path: no user row, but no stale token either.

simplejwt's stateless authentication trusts a valid token without the user's row, so on its own
it would keep answering a token issued before a password change or deactivation until the token
expires. This one also asks the shared security state whether the account changed within the
last access-token lifetime (voj/security/accounts.py): one read of a small item, instead of the
operator database.

The stream link named with its book goes one step further: its authentication leaves that read
to the view (``LaterAccountCheckAuthentication``), which makes it alongside the catalogue's read
of the book's head and the chapter, one DynamoDB request for the three items
(voj/item_reads.py). ``AccountCheckedInView`` refuses to answer a success until the check is
made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
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
    an ``account_check`` that the view must verify (AccountCheckedInView)."""

    def get_user(self, validated_token: Any) -> Any:
        user: Any = JWTStatelessUserAuthentication.get_user(self, validated_token)
        user.account_check = AccountCheck(user_id=user.pk, token=validated_token)
        return user


class AccountCheckedInView:
    """A mixin for an APIView authenticated by LaterAccountCheckAuthentication: a success
    answered before the account check was made is a bug, and fails instead of serving a token
    that may be revoked."""

    authentication_classes: Sequence[type[BaseAuthentication]] = [LaterAccountCheckAuthentication]

    @staticmethod
    def account_check(request: Request) -> AccountCheck:
        """The check LaterAccountCheckAuthentication left to the view."""
        check: AccountCheck = request.user.account_check  # type: ignore[union-attr]
        return check

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        user = getattr(request, "_user", None)
        check = getattr(user, "account_check", None)
        if check is not None and not check.made and response.status_code < 400:
            raise ImproperlyConfigured("answered without the token's account check")
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
