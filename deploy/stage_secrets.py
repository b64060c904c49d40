"""The stage's secrets: SecureString parameters under /voj/STAGE/ in SSM.

    python -m deploy secrets put STAGE [--rotate NAME]
    python -m deploy secrets set STAGE DATABASE_URL_NEXT
    python -m deploy secrets show STAGE OPERATOR_PASSWORD
    python -m deploy secrets delete STAGE DATABASE_URL_NEXT [--yes]

Generated secrets are made here and never printed; a secret the operator gives is asked for at
the terminal or read from standard input, never taken from the command line, where shell history
keeps it.

A PostgreSQL for the operator database is staged as DATABASE_URL_NEXT, which the running
function does not use; `python -m deploy opsdb-switch` makes it DATABASE_URL once the accounts
are on it (voj/opsdb/switch_state.py). DATABASE_URL itself is never set by hand: a function
that read it before the database was ready would lock every user out.
"""

from __future__ import annotations

import getpass
import secrets
import sys

from deploy import shared
from deploy.shared import say
from voj.opsdb.switch_state import ACTIVE_SECRET, STAGED_SECRET

SECRET_NAMES = ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "OPERATOR_PASSWORD")
GIVEN_SECRET_NAMES = (STAGED_SECRET,)
# What `secrets delete` removes: the switch's secrets, never the generated ones (a missing
# signing key stops the function's start).
DELETABLE_SECRET_NAMES = (STAGED_SECRET, ACTIVE_SECRET)
# The only secret `secrets show` prints: the operator needs it to log in to the console.
SHOWN_SECRET_NAMES = ("OPERATOR_PASSWORD",)
CLOUDFRONT_KEY = "CLOUDFRONT_PRIVATE_KEY"


def secrets_path(stage: str) -> str:
    return f"/voj/{stage}/"


def parameter(stage: str, name: str) -> str | None:
    """The stage's secret ``name``, decrypted, or None when there is none."""
    ssm = shared.client("ssm")
    try:
        return ssm.get_parameter(Name=secrets_path(stage) + name, WithDecryption=True)["Parameter"][
            "Value"
        ]
    except ssm.exceptions.ParameterNotFound:
        return None


def put_parameter(stage: str, name: str, value: str, *, overwrite: bool) -> None:
    """Store ``value`` as the stage's secret ``name`` (a SecureString)."""
    shared.client("ssm").put_parameter(
        Name=secrets_path(stage) + name,
        Value=value,
        Type="SecureString",
        Overwrite=overwrite,
        Description=f"voj {stage}: {name}",
    )


def secrets_set(stage: str, name: str, value: str) -> None:
    """Store a given secret under the stage's path (replacing it). The value is never printed."""
    value = value.strip()
    if not value:
        raise SystemExit(f"no value given for {name}: nothing written")
    put_parameter(stage, name, value, overwrite=True)
    say(f"{secrets_path(stage)}{name} written")


def read_secret(name: str) -> str:
    """A given secret from the terminal (not echoed) or, piped in, from standard input."""
    if sys.stdin.isatty():
        return getpass.getpass(f"{name}: ")
    return sys.stdin.read()


def secrets_put(stage: str, *, rotate: str | None = None) -> list[str]:
    """Create the missing secrets (or replace one with --rotate). Values are never printed."""
    written = []
    for name in SECRET_NAMES:
        exists = parameter(stage, name) is not None
        if exists and rotate != name:
            continue
        put_parameter(stage, name, secrets.token_urlsafe(48), overwrite=exists)
        written.append(name)
    say(
        f"secrets under {secrets_path(stage)}: "
        f"{', '.join(written) + ' written' if written else 'all present, nothing changed'}"
    )
    return written


def secrets_show(stage: str, name: str) -> None:
    """Print one secret, to a terminal only."""
    if not sys.stdout.isatty():  # never into a pipe, a file or a CI log
        raise SystemExit("secrets show prints to a terminal only")
    value = parameter(stage, name)
    if value is None:
        raise SystemExit(f"no {secrets_path(stage)}{name}: run `secrets put` first")
    print(value)


def secrets_delete(stage: str, name: str, *, yes: bool) -> bool:
    """Delete one of the switch's secrets; False when there was none. DATABASE_URL only when
    the function no longer runs on it: `opsdb-switch --to sqlite` is the way back."""
    if parameter(stage, name) is None:
        say(f"no {secrets_path(stage)}{name}: nothing to delete")
        return False
    if name == ACTIVE_SECRET and not yes:
        raise SystemExit(
            f"{secrets_path(stage)}{name} is the database the function runs on: deleting it "
            f"sends the next cold start back to the S3 file without its accounts. Go back with "
            f"`python -m deploy opsdb-switch {stage} --to sqlite` (or pass --yes)"
        )
    shared.client("ssm").delete_parameter(Name=secrets_path(stage) + name)
    say(f"{secrets_path(stage)}{name} deleted")
    return True
