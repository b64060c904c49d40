"""Token authentication for the listener's hot path: no user row, but no stale token either.

simplejwt's stateless authentication trusts a valid token without the user's row, so on its own
it would keep answering a token issued before a password change or deactivation until the token
expires. This one also asks the shared security state whether the account changed within the
last access-token lifetime (voj/security/accounts.py): one read of a small item, instead of the
operator database.
"""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings

from .accounts import ENDED, account_recorded_claim


class CurrentTokenAuthentication(JWTStatelessUserAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        recorded = account_recorded_claim(user.pk)
        if recorded is None:
            return user
        if recorded == ENDED:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != recorded:
            raise AuthenticationFailed("The user's password has been changed.", "password_changed")
        return user
