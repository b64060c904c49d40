"""The operator database's switch between the S3 file and PostgreSQL, with nobody locked out.

    python -m deploy opsdb-switch STAGE --to postgres|sqlite
    python -m deploy opsdb-switch STAGE --status
    python -m deploy opsdb-switch STAGE --abort

The function runs on DATABASE_URL (the file without it); a PostgreSQL is staged first as
DATABASE_URL_NEXT, which the running function ignores (voj/opsdb/switch_state.py). The steps,
each recorded in the security table once done, so that a run that stops resumes where it stopped:

1. staged: the target's secret is there (`secrets set STAGE DATABASE_URL_NEXT`);
2. reach: the function reaches the target (a PostgreSQL in the database stack's VPC answers
   only a function in that VPC: docs/deploy.md §12). This and the copy run *inside* the
   function (voj/opsdb/switch_task.py), where the database is reachable;
3. read-only: the operator database refuses writes (503 operator_db_read_only) on every
   container at once; sign-ins go on, they write only the security table. Then the tool waits
   out the function's timeout, so no write that began before is still running;
4. copy: the target is migrated and gets the accounts (users, groups, permissions, password
   hashes); the answer's counts and digests of both sides must be equal;
5. switch: DATABASE_URL is written (or, back to the file, moved to DATABASE_URL_NEXT), then
   `zappa update` starts every container afresh on it and the stage's throttling is applied
   again (Zappa's update resets it);
6. check: a fresh container runs on the target, fully migrated, with the copied accounts;
7. writable: the read-only mode ends.

Until step 5 `--abort` ends the read-only mode and leaves everything as it was; after it, the
way back is a switch the other way.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from deploy import live, shared, stacks
from deploy.function_task import invoke
from deploy.release import check_package, package_path
from deploy.shared import say
from deploy.stage_secrets import parameter, put_parameter, secrets_path
from deploy.throttle import stage_throttle
from voj.opsdb.switch_state import (
    ACTIVE_SECRET,
    PROGRESS_KEY,
    READ_ONLY_KEY,
    STAGED_SECRET,
    TARGETS,
)
from voj.security.dynamodb import DynamoDBExpiringState

STEPS = ("staged", "reach", "read-only", "copy", "switch", "check", "writable")
# The function's timeout (zappa_settings.json): a request that passed the read-only check just
# before the mode began has ended after this long.
DRAIN_SECONDS = 30
READ_ONLY_HOURS = 24


def security_state(stage: str) -> DynamoDBExpiringState:
    table = stacks.stack_outputs(stage, "core")["SecurityTableName"]
    return DynamoDBExpiringState(client=shared.client("dynamodb"), table=table)


def zappa(*args: str) -> None:
    """Zappa from the Lambda virtualenv, in the repository (its zappa_settings.json)."""
    if not live.run_zappa(*args):
        raise SystemExit(
            "failed: zappa update. The secret is switched and the operator database is still "
            "read-only (sign-ins work): run the switch again to finish"
        )


class Switch:
    def __init__(self, stage: str, to: str) -> None:
        self.stage, self.to = stage, to
        self.state = security_state(stage)
        self.progress: dict[str, Any] = {"to": to, "done": []}

    def save(self) -> None:
        self.state.put(
            PROGRESS_KEY,
            value=json.dumps(self.progress),
            expires_at=datetime.now(UTC) + timedelta(days=30),
            subject=f"operator database switch to {self.to}",
        )

    def staged(self) -> None:
        if self.to == "postgres" and parameter(self.stage, STAGED_SECRET) is None:
            raise SystemExit(
                f"no {secrets_path(self.stage)}{STAGED_SECRET}: stage the database first with "
                f"`python -m deploy secrets set {self.stage} {STAGED_SECRET}`"
            )
        say(f"the {self.to} database is staged")

    def reach(self) -> None:
        answer = invoke(self.stage, "check", self.to)
        if answer.get("active_error"):
            raise SystemExit(
                f"the function cannot use its own operator database ({answer['active_error']}):"
                " fix that first (docs/runbook.md); nothing changed"
            )
        target = answer["target"]
        if not target.get("reachable"):
            raise SystemExit(
                f"the function cannot reach the {self.to} database ({target.get('error')}). A "
                "PostgreSQL in the database stack answers only a function in its VPC: add "
                "vpc_config (docs/deploy.md §12) and release, then run this again. Nothing "
                "changed: the function still runs on its database, writable"
            )
        say(
            f"the function runs on {answer['active']} and reaches the {self.to} database "
            f"({target.get('pending', 0)} migration(s) to apply there)"
        )

    def read_only(self) -> None:
        self.state.put(
            READ_ONLY_KEY,
            value=f"switch to {self.to}",
            expires_at=datetime.now(UTC) + timedelta(hours=READ_ONLY_HOURS),
            subject="operator database read-only",
        )
        say(
            "the operator database is read-only: sign-ins work, account changes answer 503 "
            f"operator_db_read_only. Waiting {DRAIN_SECONDS} s for writes under way"
        )
        time.sleep(DRAIN_SECONDS)

    def copy(self) -> None:
        answer = invoke(self.stage, "copy", self.to)
        source, target = answer["source"], answer["target"]
        if source != target:
            raise SystemExit(
                f"the accounts differ after the copy (source {source}, target {target}); "
                "still read-only: run the switch again, or --abort"
            )
        self.progress["accounts"] = target
        say(f"{target['users']} users and {target['groups']} groups copied, digests equal")

    def switch(self) -> None:
        if self.to == "postgres":
            value = parameter(self.stage, STAGED_SECRET)
            if value is None:
                raise SystemExit(f"{STAGED_SECRET} disappeared; stage it again")
            put_parameter(self.stage, ACTIVE_SECRET, value, overwrite=True)
        else:
            value = parameter(self.stage, ACTIVE_SECRET)
            if value is not None:  # kept for a later switch; absent: moved by an earlier run
                put_parameter(self.stage, STAGED_SECRET, value, overwrite=True)
                shared.client("ssm").delete_parameter(Name=secrets_path(self.stage) + ACTIVE_SECRET)
        say(f"{secrets_path(self.stage)}{ACTIVE_SECRET} now names the {self.to} database")
        check_package(self.stage)
        zappa("update", self.stage, "--zip", str(package_path(self.stage)))
        stage_throttle(self.stage)

    def check(self) -> None:
        answer = invoke(self.stage, "check", self.to)
        if answer["active"] != self.to or answer.get("pending", 1):
            raise SystemExit(
                f"a fresh container runs on {answer['active']} with {answer.get('pending')} "
                "migration(s) pending; still read-only: run the switch again"
            )
        summary = invoke(self.stage, "summary", self.to)
        if summary["accounts"] != self.progress.get("accounts"):
            raise SystemExit(
                f"the accounts on {self.to} are not those copied ({summary['accounts']}); "
                "still read-only: run the switch again"
            )
        say(f"a fresh container runs on {self.to} with every account")

    def writable(self) -> None:
        self.state.clear(READ_ONLY_KEY)
        self.state.clear(PROGRESS_KEY)
        if self.to == "postgres" and parameter(self.stage, STAGED_SECRET) is not None:
            shared.client("ssm").delete_parameter(Name=secrets_path(self.stage) + STAGED_SECRET)
        say("the operator database is writable again")


def progress(stage: str) -> dict[str, Any] | None:
    raw = security_state(stage).get(PROGRESS_KEY)
    return json.loads(raw) if raw else None


def switch(stage: str, to: str) -> list[str]:
    """Run the steps not yet done; returns the steps this run did."""
    under_way = progress(stage)
    if under_way and under_way["to"] != to:
        raise SystemExit(
            f"a switch to {under_way['to']} is under way (done: {', '.join(under_way['done'])}):"
            f" run it again with --to {under_way['to']}, or --abort it"
        )
    if not under_way and _made(stage, to):
        say(f"the operator database of {stage} is already on {to}: nothing to do")
        return []
    run = Switch(stage, to)
    run.progress = under_way or run.progress
    ran = []
    for step in STEPS:
        if step in run.progress["done"]:
            continue
        say(f"== {step}")
        getattr(run, step.replace("-", "_"))()
        run.progress["done"].append(step)
        ran.append(step)
        if step != "writable":
            run.save()
    say(f"operator database of {stage} switched to {to}")
    return ran


def status(stage: str) -> None:
    under_way = progress(stage)
    reason = security_state(stage).get(READ_ONLY_KEY)
    active = "postgres" if parameter(stage, ACTIVE_SECRET) is not None else "sqlite"
    say(f"{stage}: the function's secret names {active}")
    say(f"read-only: {reason or 'no'}")
    if under_way:
        say(f"switch to {under_way['to']} under way, done: {', '.join(under_way['done'])}")


def _made(stage: str, to: str) -> bool:
    """Whether the function's secret already names ``to``."""
    return (parameter(stage, ACTIVE_SECRET) is not None) == (to == "postgres")


def abort(stage: str) -> None:
    under_way = progress(stage)
    if under_way and ("switch" in under_way["done"] or _made(stage, under_way["to"])):
        other = "sqlite" if under_way["to"] == "postgres" else "postgres"
        raise SystemExit(
            f"the switch to {under_way['to']} is made: finish it with --to {under_way['to']}, "
            f"then go back with --to {other}"
        )
    state = security_state(stage)
    state.clear(READ_ONLY_KEY)
    state.clear(PROGRESS_KEY)
    say("no switch under way; the operator database is writable")


def add_parser(sub: Any, stages: tuple[str, ...]) -> None:
    command = sub.add_parser("opsdb-switch", help="move the operator database (docs/deploy.md)")
    command.add_argument("stage", choices=stages)
    what = command.add_mutually_exclusive_group(required=True)
    what.add_argument("--to", choices=TARGETS)
    what.add_argument("--status", action="store_true")
    what.add_argument("--abort", action="store_true", help="end a switch not yet made")


def run(args: argparse.Namespace) -> None:
    if args.status:
        status(args.stage)
    elif args.abort:
        abort(args.stage)
    else:
        switch(args.stage, args.to)
