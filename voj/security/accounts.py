"""Account changes that end tokens and console sessions, told to the endpoints that do not load
the user.

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

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from . import get_security_state
from .sessions import sessions_end
from .state import state_key

# The recorded claim of an account that is inactive or deleted: no token's claim equals it.
ENDED = "ended"


def account_key(user_id: Any) -> str:
    """The account's record in the security state."""
    return state_key("account", str(user_id))


def account_claim(user: Any) -> str:
    """What a token issued now carries for the account, or ENDED if it may not have one."""
    if not api_settings.USER_AUTHENTICATION_RULE(user):
        return ENDED
    return get_md5_hash_password(user.password)


# Beyond a token's life: the operator database on another container may serve the old row for
# a few seconds after a change (VOJ_OPSDB_REFRESH_SECONDS), and a token issued there carries
# the old claim.
_MARGIN = timedelta(minutes=2)


def account_change_record(*, user_id: Any, claim: str) -> None:
    """Record the account's claim after a change, for one access-token lifetime, plus the
    leeway simplejwt gives an expired token and a margin."""
    leeway = api_settings.LEEWAY or 0
    if not isinstance(leeway, timedelta):
        leeway = timedelta(seconds=leeway)
    lifetime = api_settings.ACCESS_TOKEN_LIFETIME + leeway + _MARGIN
    get_security_state().put(
        account_key(user_id),
        value=claim,
        expires_at=datetime.now(UTC) + lifetime,
        subject=f"account {user_id} changed",
    )


def account_recorded_claim(user_id: Any) -> str | None:
    """The claim recorded by a change within the last access-token lifetime (ENDED for an
    account that may hold no token), or None: no change, so any valid token is current."""
    return get_security_state().get(account_key(user_id))


# --- the user model's signals (connected in voj.apps, for every sender) -------------------

_CLAIM_FIELDS = ("password", "is_active")
_CHANGED = "_voj_account_claim_changed"


def _is_user_model(sender: Any) -> bool:
    # A proxy of the user model sends its own class: compare the concrete model.
    return sender._meta.concrete_model is get_user_model()


def user_saving(sender: Any, instance: Any, using: str, update_fields: Any, **_: Any) -> None:
    """Before a user's row is saved: record the claim the saved row will have, if it differs
    from the stored row's. Recorded before the save, so that a security table that cannot be
    written fails the change (the console answers 503, try again) instead of leaving older
    tokens good on stream-url; if the save then fails, the account's tokens are refused on
    stream-url until the change is made again or the record expires (too much, never too
    little). After the commit the row is read again and its claim recorded, so that of two
    changes racing, the record ends with the row's.

    QuerySet.update(), bulk_update() and raw SQL send no signal: change accounts through
    save() (the console, changepassword and the management commands all do)."""
    if not _is_user_model(sender) or instance.pk is None:
        return
    saved = (
        _CLAIM_FIELDS if update_fields is None else [f for f in _CLAIM_FIELDS if f in update_fields]
    )
    if not saved:
        return
    manager = sender._meta.concrete_model._default_manager.using(using)
    stored = manager.filter(pk=instance.pk).first()
    if stored is None:
        return  # a new row: no token was issued for it
    # The row as this save leaves it: the fields it writes from the instance, the others as
    # stored (an instance loaded earlier may hold stale values of fields it does not save).
    after = copy.copy(stored)
    for field in saved:
        setattr(after, field, getattr(instance, field))
    claim = account_claim(after)
    if claim == account_claim(stored):
        return
    account_change_record(user_id=instance.pk, claim=claim)
    sessions_end(user_id=instance.pk)
    instance.__dict__[_CHANGED] = True


def user_saved(sender: Any, instance: Any, using: str, **_: Any) -> None:
    """After a save that changed the claim: once it is committed (at once in autocommit),
    record the claim of the row as committed."""
    if not instance.__dict__.pop(_CHANGED, False):
        return
    manager = sender._meta.concrete_model._default_manager.using(using)
    user_id = instance.pk
    transaction.on_commit(lambda: _record_committed(manager, user_id), using=using)


def _record_committed(manager: Any, user_id: Any) -> None:
    row = manager.filter(pk=user_id).first()
    account_change_record(user_id=user_id, claim=ENDED if row is None else account_claim(row))


def user_deleted(sender: Any, instance: Any, **_: Any) -> None:
    if _is_user_model(sender):
        account_change_record(user_id=instance.pk, claim=ENDED)
        sessions_end(user_id=instance.pk)
