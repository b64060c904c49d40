"""``DATABASE_URL``: the operator database on a server (PostgreSQL) instead of a SQLite file.

Only read when the variable is set, so neither dj-database-url nor psycopg is imported at a cold
start without it.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

POSTGRESQL = "django.db.backends.postgresql"
# libpq's modes that encrypt; verify-ca and verify-full also check the server's certificate
# (they need the CA bundle, e.g. RDS's, given as sslrootcert in the URL).
TLS_MODES = ("require", "verify-ca", "verify-full")
CONNECT_TIMEOUT_SECONDS = 5
DRIVERS = ("psycopg", "psycopg2")


def is_local_host(host: str) -> bool:
    """A Unix socket (empty host or a path) or a loopback address: traffic never leaves the
    machine, so TLS adds nothing."""
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def database_from_url(url: str, *, conn_max_age: int) -> dict[str, Any]:
    """Django's DATABASES entry for url.

    Connections are kept for conn_max_age seconds and checked before reuse
    (CONN_HEALTH_CHECKS): a Lambda container is frozen between invocations, and the server may
    drop an idle connection meanwhile, so a reused connection is pinged and replaced rather than
    failing the request. PostgreSQL off the machine needs TLS: sslmode=require unless the URL asks
    for a stricter mode; a weaker one is refused.
    """
    try:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
        )
    except ValueError as error:  # an unknown scheme or a malformed URL (never echoed)
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {error}") from None
    if config["ENGINE"] == POSTGRESQL:
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        options.setdefault("application_name", "voj")
        if not is_local_host(str(config.get("HOST") or "")):
            mode = options.setdefault("sslmode", "require")
            if mode not in TLS_MODES:
                raise ImproperlyConfigured(
                    f"DATABASE_URL: sslmode={mode} for a remote PostgreSQL host; the operator "
                    f"database carries password hashes, so use one of {', '.join(TLS_MODES)}"
                )
    return config


def operator_file_database(*, path: str, bucket: str, key: str) -> dict[str, Any]:
    """Django's DATABASES entry for the operator database as one SQLite file kept in the bucket
    (voj.opsdb), downloaded to path."""
    return {
        "ENGINE": "voj.opsdb",
        "NAME": path,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        "BUCKET": bucket,
        "KEY": key,
    }


def drivers_absent() -> None:
    """Mark the PostgreSQL drivers as not installed, for a process that has no DATABASE_URL.

    DRF imports django.contrib.postgres's fields whenever psycopg can be imported, and with them
    psycopg and libpq: on Lambda that is part of every cold start (docs/performance.md), for
    fields voj does not use. With the drivers marked absent (None in sys.modules, Python's way to
    make an import fail at once) DRF goes on without them."""
    for name in DRIVERS:
        # typeshed's sys.modules has no None values; Python documents None as "import fails".
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None is allowed here


def drivers_present() -> None:
    """Undo drivers_absent, for the one task that opens a PostgreSQL from a process that runs
    on the S3 file (the operator database's switch, voj/opsdb/switch_task.py)."""
    for name in DRIVERS:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
