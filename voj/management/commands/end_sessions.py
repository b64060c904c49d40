"""End every console session of an account, on every container at once (see the runbook).

    python manage.py end_sessions USERNAME
    zappa manage prod "end_sessions USERNAME"

A password change, a deactivation or deleting the account does this by itself; this is for a
session that may have been copied (a lost laptop, a shared screen) when nothing else changes.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from voj.security.sessions import sessions_end


class Command(BaseCommand):
    help = "End every console session of a user."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **kw: Any) -> None:
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        sessions_end(user_id=user.pk)
        self.stdout.write(f"user {username!r}: every console session ended")
