"""Moving the operator accounts between the SQLite file in the bucket and a database server.

    python -m deploy opsdb export STAGE --output accounts.json [--database-url URL]
    python -m deploy opsdb import STAGE --input accounts.json [--database-url URL]

Without --database-url the source (export) or target (import) is the stage's operator database
in S3 (system/operator-db.sqlite3 in the core stack's bucket, or --bucket); with it, that
database (PostgreSQL, say). The accounts are Django's own dumpdata/loaddata of groups and users
with natural keys, so permissions and group memberships travel by name, and password hashes
travel as they are: every account logs in with its old password after the move. An import
migrates the target first and updates accounts that already exist (matched by username); an
import into S3 is published with the same conditional PUT the application uses, so it never
overwrites a change made meanwhile. Admin history (the log entries) stays behind.

The file holds password hashes: it is written readable by its owner only; delete it after use.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.opsdb import KEY, media_bucket
from deploy.tools import _say

ROOT = Path(__file__).resolve().parent.parent
# Groups before users: a user's groups refer to them by name.
MODELS = ("auth.group", "auth.user")


def manage(database_url: str, *args: str, work: Path) -> str:
    """manage.py with the given operator database; the local settings, so no AWS is needed."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VOJ_", "DJANGO_"))},
        "VOJ_ENV": "local",
        "VOJ_DATA_DIR": str(work / "data"),
        "DATABASE_URL": database_url,
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


if TYPE_CHECKING:
    from voj.opsdb.sync import OperatorDatabaseSync


def _sync(stage: str, bucket: str | None, path: Path) -> OperatorDatabaseSync:
    from deploy.tools import client
    from voj.opsdb.sync import OperatorDatabaseSync

    return OperatorDatabaseSync(
        client=client("s3"), bucket=bucket or media_bucket(stage), key=KEY, path=path
    )


def export(stage: str, output: Path, *, database_url: str | None, bucket: str | None) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if database_url is None:
            sync = _sync(stage, bucket, work / "operator.sqlite3")
            if not sync.refresh(force=True):
                raise SystemExit(f"no operator database at s3://{sync.bucket}/{KEY}")
            database_url = f"sqlite:///{sync.path}"
            source = f"s3://{sync.bucket}/{KEY}"
        else:
            source = "DATABASE_URL"
        dumped = manage(
            database_url,
            "dumpdata",
            *MODELS,
            "--natural-foreign",
            "--natural-primary",
            "--indent",
            "1",
            work=work,
        )
    records = json.loads(dumped)
    output.touch(mode=0o600)
    output.chmod(0o600)
    output.write_text(dumped)
    users = sum(1 for r in records if r["model"] == "auth.user")
    groups = sum(1 for r in records if r["model"] == "auth.group")
    _say(f"{users} users and {groups} groups from {source} written to {output} (password hashes)")
    return users


def import_(stage: str, source: Path, *, database_url: str | None, bucket: str | None) -> int:
    records = json.loads(source.read_text())
    if not isinstance(records, list) or any(r.get("model") not in MODELS for r in records):
        raise SystemExit(f"{source} is not an export of {', '.join(MODELS)}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sync = None
        if database_url is None:
            sync = _sync(stage, bucket, work / "operator.sqlite3")
            sync.refresh(force=True)  # starts from the published file, or from nothing
            target_url = f"sqlite:///{sync.path}"
            target = f"s3://{sync.bucket}/{KEY}"
        else:
            target_url, target = database_url, "DATABASE_URL"
        manage(target_url, "migrate", "--noinput", "-v", "0", work=work)
        fixture = work / "accounts.json"
        fixture.write_text(source.read_text())
        manage(target_url, "loaddata", str(fixture), work=work)
        if sync is not None:
            sync.publish()  # conditional: refused if the file changed since it was read
    users = sum(1 for r in records if r["model"] == "auth.user")
    _say(f"{users} users from {source} loaded into {target}")
    return users


def add_parsers(sub: Any, stages: tuple[str, ...]) -> None:
    """`opsdb export` and `opsdb import`, under `python -m deploy opsdb`."""
    for action, file_flag in (("export", "--output"), ("import", "--input")):
        command = sub.add_parser(action, help=f"{action} users, groups and permissions")
        command.add_argument("stage", choices=stages)
        command.add_argument(file_flag, dest="file", type=Path, required=True)
        command.add_argument("--database-url", help="a database server instead of the S3 file")
        command.add_argument("--bucket", help="the bucket (default: the core stack's)")


def main(argv: list[str]) -> None:
    """`python -m deploy opsdb export|import ...` (argv from after `opsdb`)."""
    from deploy.tools import STAGES

    parser = argparse.ArgumentParser(prog="python -m deploy opsdb", description=__doc__)
    add_parsers(parser.add_subparsers(dest="action", required=True), STAGES)
    run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> None:
    if args.action == "export":
        export(args.stage, args.file, database_url=args.database_url, bucket=args.bucket)
    else:
        import_(args.stage, args.file, database_url=args.database_url, bucket=args.bucket)
