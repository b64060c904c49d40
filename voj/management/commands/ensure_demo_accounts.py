"""Create or refresh the demo accounts: operator (superuser), editor (editors), listener."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from books.permissions import EDITORS_GROUP

DEMO_ACCOUNTS: tuple[tuple[str, dict[str, bool], list[str]], ...] = (
    ("operator", {"is_staff": True, "is_superuser": True}, []),
    ("editor", {"is_staff": False, "is_superuser": False}, [EDITORS_GROUP]),
    ("listener", {"is_staff": False, "is_superuser": False}, []),
)


def _generated_password(path: Path) -> str:
    """One generated password per checkout, kept beside the local data (git-ignored)."""
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password


class Command(BaseCommand):
    help = (
        "Ensure the demo accounts exist. Their password is VOJ_DEMO_PASSWORD when set "
        "(re-applied every run), otherwise one generated for this checkout and printed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.VOJ_ENV == "production" and not os.environ.get("VOJ_DEMO_PASSWORD"):
            raise CommandError("refusing to create demo accounts in production without a password")
        password = os.environ.get("VOJ_DEMO_PASSWORD") or _generated_password(
            Path(settings.DATA_DIR) / "demo-password"
        )
        user_model = get_user_model()
        with transaction.atomic():
            editors, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
            for username, flags, groups in DEMO_ACCOUNTS:
                user, _ = user_model.objects.get_or_create(username=username, defaults=flags)
                for name, value in flags.items():
                    setattr(user, name, value)
                # The same password again keeps the account's tokens: a new hash (a new salt)
                # would end every token issued before it.
                if not user.check_password(password):
                    user.set_password(password)
                user.save()
                if EDITORS_GROUP in groups:
                    user.groups.add(editors)
        self.stdout.write("Demo accounts: operator (staff), editor (editors), listener")
        self.stdout.write(f"Password: {password}")
