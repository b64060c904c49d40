"""The first operator, created without a prompt (the post-deploy step).

    zappa manage prod "create_operator --username admin"

The password is OPERATOR_PASSWORD from VOJ_SECRETS (written by `python -m deploy secrets put`),
or the environment variable named by --password-env; it is never printed. An existing user is
left as it is, so the step can run on every deploy.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from voj.secrets import load_secrets, secret


class Command(BaseCommand):
    help = "Create the first operator (staff superuser) without a prompt; idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password-env", help="take the password from this variable")

    def handle(
        self, *args: Any, username: str, email: str, password_env: str | None, **kw: Any
    ) -> None:
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"operator {username} exists; nothing changed")
            return
        password = self._password(password_env)
        users.create_superuser(username=username, email=email, password=password)
        self.stdout.write(f"operator {username} created")

    def _password(self, password_env: str | None) -> str:
        if password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"{password_env} is empty")
            return password
        if not settings.VOJ_SECRETS:
            raise CommandError("no VOJ_SECRETS here: pass --password-env VARIABLE")
        values = load_secrets(
            settings.VOJ_SECRETS,
            region=settings.VOJ_AWS_REGION,
            endpoint_url=settings.VOJ_AWS_ENDPOINT_URL,
        )
        return secret(values, "OPERATOR_PASSWORD", spec=settings.VOJ_SECRETS)
