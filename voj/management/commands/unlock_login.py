"""Forget the failed sign-ins counted for an account or a client address (see the runbook).

    python manage.py unlock_login USERNAME
    python manage.py unlock_login --address 203.0.113.7
    zappa manage prod "unlock_login USERNAME"

A locked account unlocks by itself VOJ_LOGIN_FAILURE_WINDOW_SECONDS after its last failed
attempt; this is for when the operator has made sure the owner is the one signing in.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from voj.security.throttle import login_failures, login_unlock


class Command(BaseCommand):
    help = "Clear the failed sign-in count of a username and/or a client address."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", nargs="?")
        parser.add_argument("--address", help="a client address (IPv4, or IPv6 counted per /64)")

    def handle(self, *args: Any, username: str | None, address: str | None, **kw: Any) -> None:
        if username is None and address is None:
            raise CommandError("name a username, an --address, or both")
        if username is not None:
            failures = login_failures(username=username)
            login_unlock(username=username)
            self.stdout.write(f"username {username!r}: {failures} failures cleared")
        if address is not None:
            failures = login_failures(address=address)
            login_unlock(address=address)
            self.stdout.write(f"address {address}: {failures} failures cleared")
