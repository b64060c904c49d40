"""Refresh tokens that can be used once and revoked: their ids are marked in the shared
security state until the token would have expired anyway (never in the operator database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from . import get_security_state
from .state import state_key


def _key(token: RefreshToken) -> str:
    return state_key("refresh", str(token[api_settings.JTI_CLAIM]))


def refresh_token_revoke(token: RefreshToken) -> bool:
    """Mark the token used; False if it already was (revoked, or used by another request)."""
    expires_at = datetime.fromtimestamp(int(token["exp"]), UTC)
    return get_security_state().mark(_key(token), expires_at=expires_at, subject="refresh token")


def refresh_token_user(token: RefreshToken) -> Any:
    """The token's user, if the token still speaks for them: the account exists, is active,
    and its password is the one the token was issued under."""
    user_id = token.get(api_settings.USER_ID_CLAIM)
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
        raise AuthenticationFailed(
            "No active account found for the given token.", "no_active_account"
        )
    if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise AuthenticationFailed("The user's password has been changed.", "password_changed")
    return user


class RefreshTokenUsed(InvalidToken):
    """A refresh token that was already used (refreshed or logged out): the API's 401."""


def refresh_token_rotate(raw: str) -> dict[str, str]:
    """A new token pair for a refresh token, which is used up by it."""
    # TokenError (bad, expired) is the view's 401.
    token = RefreshToken(raw)  # type: ignore[arg-type]  # simplejwt types the JWT string as Token
    user = refresh_token_user(token)
    if not refresh_token_revoke(token):
        raise RefreshTokenUsed("Token has been revoked or already used.")
    fresh = RefreshToken.for_user(user)
    return {"refresh": str(fresh), "access": str(fresh.access_token)}
