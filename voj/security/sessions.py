"""Console sessions, kept in the shared security state (voj/security): the DynamoDB security
table in production, the SQL database otherwise.

Signed-cookie sessions (the previous engine) are stateless: a copied cookie kept opening the
console after its operator logged out. Here the cookie holds only a random key; the session is
a record with an expiry, so logging out deletes it for every container at once, and no ordinary
request writes the operator database (Lambda's SQLite file in S3).

Every session also records its user's session generation at sign-in. Ending a user's sessions
(``sessions_end``: a password change or deactivation, or an operator's ``end_sessions``) gives
the user a new generation, and a session of an older one reads as empty: signed out.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, SessionBase

from . import get_security_state
from .state import state_key

# The user's session generation, in the session's data.
GENERATION = "_voj_session_generation"


def _session_key(session_key: str) -> str:
    return state_key("session", session_key)


def _generation_key(user_id: Any) -> str:
    return state_key("sessions-of", str(user_id))


def sessions_generation(user_id: Any) -> str:
    """The user's current session generation ("" until their sessions are first ended)."""
    return get_security_state().get(_generation_key(user_id)) or ""


def sessions_end(*, user_id: Any) -> None:
    """End every console session of the user, on every container at once. The generation is
    kept longer than any session lives: a session older than it cannot outlast it."""
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE) + timedelta(hours=1)
    get_security_state().put(
        _generation_key(user_id),
        value=secrets.token_hex(8),
        expires_at=datetime.now(UTC) + lifetime,
        subject=f"sessions of user {user_id} ended",
    )


class SessionStore(SessionBase):
    def load(self) -> dict[str, Any]:
        raw = get_security_state().get(_session_key(self.session_key)) if self.session_key else None
        data = self.decode(raw) if raw else {}
        user_id = data.get(SESSION_KEY)
        if not data or (
            user_id is not None and data.get(GENERATION) != sessions_generation(user_id)
        ):
            self._session_key = None  # a new key if anything is saved: never the old one
            return {}
        return data

    def exists(self, session_key: str) -> bool:
        return get_security_state().get(_session_key(session_key)) is not None

    def create(self) -> None:
        for _ in range(10):
            self._session_key = self._get_new_session_key()  # type: ignore[attr-defined]  # Django's, not in its stubs
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return
        raise RuntimeError("could not create a unique session key")

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        if must_create and self.exists(self.session_key):
            raise CreateError
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]  # Django's, not in its stubs
        user_id = data.get(SESSION_KEY)
        if user_id is not None and GENERATION not in data:
            # Signing in: the session belongs to the user's current generation.
            data[GENERATION] = sessions_generation(user_id)
        get_security_state().put(
            _session_key(self.session_key),
            value=self.encode(data),
            expires_at=self.get_expiry_date(),
            subject="console session",
        )
        return None

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        if key:
            get_security_state().clear(_session_key(key))

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: every record carries its expiry and is ignored past it (DynamoDB's
        TTL and the SQL state's own sweep delete them)."""
