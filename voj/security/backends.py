"""Django's ModelBackend behind the login throttle: every password check in the service (the
API login and the operator console's) goes through it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .throttle import login_attempt_begin, login_attempt_succeeded


class ThrottledModelBackend(ModelBackend):
    """Raises LoginThrottled (not PermissionDenied, which ``authenticate()`` would turn into an
    ordinary failure) so callers can answer 429. For an unknown username ModelBackend hashes
    the password anyway, so a known and an unknown username cost the same."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = user_model.normalize_username(username)
        attempt = login_attempt_begin(request, username)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            login_attempt_succeeded(attempt)
        return user
