"""The switch's work that must run where the databases are reachable: inside the function.

A PostgreSQL in the database stack's VPC answers only the function (and hosts in that VPC), so
`python -m deploy opsdb-switch` invokes this through Zappa's ``command`` event::

    {"command": "voj.opsdb.switch_task.task", "action": "check" | "copy" | "summary",
     "to": TARGET}
    {"command": "voj.opsdb.switch_task.task", "action": "migrate"}

(TARGET: "postgres" | "sqlite")

- check: which database the function runs on, and whether the target answers (and how many
  migrations it lacks);
- copy: migrate the target, then make its accounts those of the running database (groups and
  users by natural key, password hashes as they are; accounts the source lacks are removed),
  and answer both sides' counts and digest, so the tool can compare them;
- summary: the running database's counts and digest, as copy gives them;
- migrate: Django's migrate on the running database (a release whose database is reachable
  only from here).

The target of ``postgres`` is the staged secret DATABASE_URL_NEXT, read afresh (a container may
have started before it was staged); the target of ``sqlite`` is the file in the bucket,
published with the conditional PUT the function always uses. Answers are JSON objects; a
failure is ``{"error": ...}``, never an exception (Zappa would retry a failed command with
fewer arguments and hide the cause).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connections

from voj.migration_state import pending_migrations
from voj.secrets import load_secrets
from voj.settings.database import database_from_url, drivers_present, operator_file_database

from .switch_state import STAGED_SECRET, TARGETS

logger = logging.getLogger("voj.opsdb")

TARGET = "switch_target"
# Groups before users: a user's groups refer to them by name.
MODELS = ("auth.group", "auth.user")


def task(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Zappa's ``command`` entry point."""
    action, to = event.get("action"), event.get("to")
    try:
        if action == "migrate":
            return _migrate_running()
        if to not in TARGETS:
            return {"error": f"`to` must be one of {', '.join(TARGETS)}"}
        if action == "check":
            return {**_running(), "target": _target_check(to)}
        if action == "copy":
            return _copy(to)
        if action == "summary":
            return {"active": kind("default"), "accounts": accounts_summary("default")}
        return {"error": f"unknown action {action!r}"}
    except Exception as error:  # reported to the tool, whatever it was
        logger.exception("operator database switch: %s failed", action)
        return {"error": f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"}
    finally:
        _forget_target()


def kind(alias: str) -> str:
    """``postgres`` or ``sqlite`` (the file in the bucket, or any SQLite)."""
    return "postgres" if connections[alias].vendor == "postgresql" else "sqlite"


def _running() -> dict[str, Any]:
    answer: dict[str, Any] = {"active": kind("default")}
    try:
        answer["pending"] = len(pending_migrations())
    except Exception as error:  # the running database is unreachable: say so, do not raise
        answer["active_error"] = type(error).__name__
    return answer


def _target_settings(to: str) -> dict[str, Any]:
    if to == "postgres":
        # Afresh, not the cold start's cached copy: the URL may have been staged since.
        fresh = load_secrets.__wrapped__(
            settings.VOJ_SECRETS,
            region=settings.VOJ_AWS_REGION,
            endpoint_url=settings.VOJ_AWS_ENDPOINT_URL,
        )
        url = fresh.get(STAGED_SECRET, "").strip()
        if not url:
            raise LookupError(f"no {STAGED_SECRET} in {settings.VOJ_SECRETS}: stage it first")
        drivers_present()
        return database_from_url(url, conn_max_age=0)
    return operator_file_database(
        path=str(Path(tempfile.mkdtemp(prefix="voj-switch-")) / "operator.sqlite3"),
        bucket=settings.VOJ_MEDIA_BUCKET,
        key=getattr(settings, "VOJ_OPSDB_KEY", "system/operator-db.sqlite3"),
    )


def _open_target(to: str) -> None:
    _forget_target()
    connections.settings[TARGET] = connections.configure_settings(
        {"default": _target_settings(to)}
    )["default"]


def _forget_target() -> None:
    """Close the target; what a failed step left unpublished in a file is dropped with it."""
    if TARGET not in connections.settings:
        return
    with suppress(Exception):  # the step's own error is the one reported
        connections[TARGET].close()
    with suppress(AttributeError):
        del connections[TARGET]
    connections.settings.pop(TARGET, None)


def _target_check(to: str) -> dict[str, Any]:
    if kind("default") == to:
        return {"reachable": True, "pending": 0, "active": True}
    _open_target(to)
    try:
        connections[TARGET].ensure_connection()
        return {"reachable": True, "pending": len(pending_migrations(TARGET))}
    except Exception as error:  # unreachable: the answer says so
        return {"reachable": False, "error": f"{type(error).__name__}: {_first_line(error)}"}


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else ""


def _copy(to: str) -> dict[str, Any]:
    if kind("default") == to:
        return {"error": f"the function already runs on {to}: nothing to copy"}
    _open_target(to)
    call_command("migrate", database=TARGET, interactive=False, verbosity=0)
    dumped = io.StringIO()
    call_command("dumpdata", *MODELS, natural_foreign=True, natural_primary=True, stdout=dumped)
    records = json.loads(dumped.getvalue())
    names = {r["fields"]["username"] for r in records if r["model"] == "auth.user"}
    groups = {r["fields"]["name"] for r in records if r["model"] == "auth.group"}
    # Accounts removed from the source since an earlier copy go from the target too.
    User.objects.using(TARGET).exclude(username__in=names).delete()
    Group.objects.using(TARGET).exclude(name__in=groups).delete()
    with tempfile.TemporaryDirectory() as work:
        fixture = Path(work) / "accounts.json"
        fixture.write_text(dumped.getvalue())
        fixture.chmod(0o600)  # password hashes
        call_command("loaddata", str(fixture), database=TARGET, verbosity=0)
    answer = {"source": accounts_summary("default"), "target": accounts_summary(TARGET)}
    connections[TARGET].close()  # the file's engine publishes it here, or fails loudly
    return answer


def accounts_summary(alias: str) -> dict[str, Any]:
    """Counts and a digest of what a sign-in and a permission check read: equal digests mean
    every account signs in and may do the same on both databases."""

    def perms(queryset: Any) -> list[str]:
        return sorted(f"{p.content_type.app_label}.{p.codename}" for p in queryset.all())

    users = [
        [
            user.username,
            user.password,
            user.email,
            user.is_active,
            user.is_staff,
            user.is_superuser,
            sorted(group.name for group in user.groups.all()),
            perms(user.user_permissions),
        ]
        for user in User.objects.using(alias)
        .order_by("username")
        .prefetch_related("groups", "user_permissions__content_type")
    ]
    groups = [
        [group.name, perms(group.permissions)]
        for group in Group.objects.using(alias)
        .order_by("name")
        .prefetch_related("permissions__content_type")
    ]
    digest = hashlib.sha256(json.dumps([users, groups]).encode()).hexdigest()
    return {"users": len(users), "groups": len(groups), "digest": digest}


def _migrate_running() -> dict[str, Any]:
    pending = pending_migrations()
    call_command("migrate", interactive=False, verbosity=0)
    return {"active": kind("default"), "applied": pending, "pending": len(pending_migrations())}
