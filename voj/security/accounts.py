"""Account changes that end tokens, told to the endpoints that do not load the user.

Every endpoint but one loads the token's user and compares the token's revoke claim (a hash of
the password hash) with the user's row, so a password change or deactivation ends older tokens
there at once. ``stream-url``, the listener's hot path, checks the token without the user's row
(on Lambda that row is in the operator database, downloaded on a cold start). For it, a change
to an account's password, active flag or existence also writes the account's current claim to
the shared security state, where it is kept for one access-token lifetime: after that every
token issued before the change has expired anyway. A token whose claim differs from a recorded
one is refused; an account with no record has changed nothing within that lifetime.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from . import get_security_state
from .state import state_key

# The recorded claim of an account that is inactive or deleted: no token's claim equals it.
ENDED = "ended"


def _key(user_id: Any) -> str:
    return state_key("account", str(user_id))


def account_claim(user: Any) -> str:
    """What a token issued now carries for the account, or ENDED if it may not have one."""
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.utils import get_md5_hash_password

    if not api_settings.USER_AUTHENTICATION_RULE(user):
        return ENDED
    return get_md5_hash_password(user.password)


def account_change_record(*, user_id: Any, claim: str) -> None:
    """Record the account's claim after a change, for one access-token lifetime (plus the
    leeway simplejwt gives an expired token)."""
    from rest_framework_simplejwt.settings import api_settings

    leeway = api_settings.LEEWAY
    if not isinstance(leeway, timedelta):
        leeway = timedelta(seconds=leeway)
    lifetime = api_settings.ACCESS_TOKEN_LIFETIME + leeway
    get_security_state().put(
        _key(user_id),
        value=claim,
        expires_at=datetime.now(UTC) + lifetime,
        subject=f"account {user_id} changed",
    )


def account_recorded_claim(user_id: Any) -> str | None:
    """The claim recorded by a change within the last access-token lifetime (ENDED for an
    account that may hold no token), or None: no change, so any valid token is current."""
    return get_security_state().get(_key(user_id))


# --- the user model's signals (connected in voj.apps) -------------------------------------

_CLAIM_FIELDS = {"password", "is_active"}


def user_saving(
    sender: Any, instance: Any, raw: bool, using: str, update_fields: Any, **_: Any
) -> None:
    """Before a user's row is saved: record the new claim if it differs from the stored one.
    Recorded before the save, so that a security table that cannot be written fails the change
    (the console answers 503, try again) instead of leaving older tokens good on stream-url.
    If the save itself then fails, the account's tokens are refused on stream-url until the
    change is made again or the record expires: refusing too much, never too little."""
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not _CLAIM_FIELDS & set(update_fields):
        return
    stored = sender._default_manager.using(using).filter(pk=instance.pk).first()
    if stored is None:
        return
    claim = account_claim(instance)
    if claim != account_claim(stored):
        account_change_record(user_id=instance.pk, claim=claim)


def user_deleted(sender: Any, instance: Any, **_: Any) -> None:
    account_change_record(user_id=instance.pk, claim=ENDED)
