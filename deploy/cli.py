"""Deploy tools: keys, secrets, stacks through change sets, and Zappa's environment.

    python -m deploy keys create STAGE
    python -m deploy keys rotate STAGE [--step add|switch|retire] [--yes] [--force]
    python -m deploy secrets put STAGE [--rotate NAME]
    python -m deploy secrets show STAGE NAME
    python -m deploy secrets set STAGE DATABASE_URL_NEXT
    python -m deploy secrets delete STAGE NAME [--yes]
    python -m deploy stack plan|apply STAGE [--yes]
        --template core|edge|monitoring|cdn-alarms|database
    python -m deploy opsdb versions|restore STAGE [--version-id ID]
    python -m deploy opsdb export|import STAGE ...   (deploy/opsdb_transfer.py)
    python -m deploy opsdb-switch STAGE --to postgres|sqlite | --status | --abort
    python -m deploy migrate STAGE
    python -m deploy release STAGE [--base-url URL] [--no-smoke]
    python -m deploy status STAGE
    python -m deploy rollback STAGE [--to-version N]
    python -m deploy recycle STAGE --reason TEXT
    python -m deploy configure STAGE [--without-edge]
    python -m deploy table-restore STAGE TABLE [TABLE ...] --to ISO-TIME [--yes]
    python -m deploy domain STAGE --name api.example.com --certificate-arn ARN
    python -m deploy throttle STAGE [--rate 100] [--burst 200]

Run again, `secrets put`, `keys create`, `stack plan|apply` and `configure` change nothing that is
already in place; `keys rotate` and `release` say at each step what state the stage is in and
what to run next. AWS credentials come from the usual places (profile, environment; the least
privilege is deploy/deployer-policy.json); VOJ_AWS_ENDPOINT_URL points them at a moto server
for the tests.

This module is the command line only: each command lives in the module named for it, and those
share deploy/shared.py and deploy/stage_secrets.py, so imports run one way.
"""

from __future__ import annotations

import argparse
import sys

from deploy import domain, live, opsdb, opsdb_switch, opsdb_transfer, release, rotation, tables
from deploy.configure import configure
from deploy.keys import keys_create
from deploy.shared import STAGES
from deploy.stacks import TEMPLATES, stack_apply, stack_plan
from deploy.stage_secrets import (
    DELETABLE_SECRET_NAMES,
    GIVEN_SECRET_NAMES,
    SECRET_NAMES,
    SHOWN_SECRET_NAMES,
    read_secret,
    secrets_delete,
    secrets_put,
    secrets_set,
    secrets_show,
)
from deploy.throttle import THROTTLE_BURST, THROTTLE_RATE, stage_throttle


def _keys(sub: argparse._SubParsersAction) -> None:
    actions = sub.add_parser("keys").add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="the CloudFront signing key pair")
    create.add_argument("stage", choices=STAGES)
    rotate = actions.add_parser("rotate", help="rotate the signing key (deploy/rotation.py)")
    rotate.add_argument("stage", choices=STAGES)
    rotate.add_argument("--step", choices=("status", "add", "switch", "retire"), default="status")
    rotate.add_argument("--yes", action="store_true", help="apply the edge change without asking")
    rotate.add_argument("--force", action="store_true", help="retire before old URLs expire")


def _secrets(sub: argparse._SubParsersAction) -> None:
    actions = sub.add_parser("secrets").add_subparsers(dest="action", required=True)
    put = actions.add_parser("put")
    put.add_argument("stage", choices=STAGES)
    put.add_argument("--rotate", choices=SECRET_NAMES)
    given = actions.add_parser("set", help="store a secret you give (asked for, or stdin)")
    given.add_argument("stage", choices=STAGES)
    given.add_argument("name", choices=GIVEN_SECRET_NAMES)
    show = actions.add_parser("show", help="print one secret to this terminal only")
    show.add_argument("stage", choices=STAGES)
    show.add_argument("name", choices=SHOWN_SECRET_NAMES)
    delete = actions.add_parser("delete", help="delete one of the database switch's secrets")
    delete.add_argument("stage", choices=STAGES)
    delete.add_argument("name", choices=DELETABLE_SECRET_NAMES)
    delete.add_argument("--yes", action="store_true", help="even the active DATABASE_URL")


def _stack(sub: argparse._SubParsersAction) -> None:
    stack = sub.add_parser("stack")
    stack.add_argument("action", choices=("plan", "apply"))
    stack.add_argument("stage", choices=STAGES)
    stack.add_argument("--template", choices=sorted(TEMPLATES), default="core")
    stack.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    stack.add_argument("--yes", action="store_true", help="execute without asking")


def _opsdb(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("opsdb", help="the operator database's stored versions")
    actions = command.add_subparsers(dest="action", required=True)
    actions.add_parser("versions").add_argument("stage", choices=STAGES)
    restore = actions.add_parser("restore")
    restore.add_argument("stage", choices=STAGES)
    restore.add_argument("--version-id", required=True)
    restore.add_argument("--yes", action="store_true", help="restore without asking")
    opsdb_transfer.add_parsers(actions, STAGES)
    opsdb_switch.add_parser(sub, STAGES)


def _stage_commands(sub: argparse._SubParsersAction) -> None:
    mig = sub.add_parser(
        "migrate", help="migrate the stage's operator database from this tree (release does it)"
    )
    mig.add_argument("stage", choices=STAGES)
    rel = sub.add_parser("release", help="package check, migrate, zappa update, health, smoke")
    rel.add_argument("stage", choices=STAGES)
    rel.add_argument("--base-url", help="the API's URL (default: the stage's execute-api URL)")
    rel.add_argument("--no-smoke", action="store_true", help="skip the smoke test")
    status = sub.add_parser("status", help="the function's versions: code, release, revision")
    status.add_argument("stage", choices=STAGES)
    back = sub.add_parser("rollback", help="the release before the one that serves, serving")
    back.add_argument("stage", choices=STAGES)
    back.add_argument("--to-version", help="this published version's code instead")
    recycle = sub.add_parser("recycle", help="new containers (and snapshot), the same code")
    recycle.add_argument("stage", choices=STAGES)
    recycle.add_argument("--reason", required=True, help="recorded in the version's description")
    dom = sub.add_parser("domain", help="the HTTP API's custom domain; prints the DNS target")
    dom.add_argument("stage", choices=STAGES)
    dom.add_argument("--name", required=True, help="e.g. api.example.com")
    dom.add_argument("--certificate-arn", required=True, help="ACM, in the stage's region")
    conf = sub.add_parser("configure", help="write stack outputs into zappa_settings.json")
    conf.add_argument("stage", choices=STAGES)
    conf.add_argument(
        "--without-edge", action="store_true", help="no CloudFront yet: leave the CDN names out"
    )
    throttle = sub.add_parser("throttle", help="API Gateway stage throttling (after zappa deploy)")
    throttle.add_argument("stage", choices=STAGES)
    throttle.add_argument("--rate", type=float, default=THROTTLE_RATE, help="requests per second")
    throttle.add_argument("--burst", type=int, default=THROTTLE_BURST)


def _table_restore(sub: argparse._SubParsersAction) -> None:
    restore = sub.add_parser(
        "table-restore", help="restore tables to a point in time, as new tables (deploy/tables.py)"
    )
    restore.add_argument("stage", choices=STAGES)
    restore.add_argument("table", nargs="+", choices=sorted(tables.KINDS))
    restore.add_argument("--to", required=True, help="ISO 8601 with its zone: 2026-12-02T21:30Z")
    restore.add_argument("--yes", action="store_true", help="restore without asking")


def build_parser() -> argparse.ArgumentParser:
    """`python -m deploy`'s parser: every command and option documented in docs/."""
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="group", required=True)
    for add in (_keys, _secrets, _stack, _opsdb, _stage_commands, _table_restore):
        add(sub)
    return parser


def _rotate(args: argparse.Namespace) -> None:
    if args.step == "status":
        rotation.status(args.stage)
    elif args.step == "add":
        rotation.add(args.stage, yes=args.yes)
    elif args.step == "switch":
        rotation.switch(args.stage)
    else:
        rotation.retire(args.stage, yes=args.yes, force=args.force)


def _secret(args: argparse.Namespace) -> None:
    if args.action == "set":
        secrets_set(args.stage, args.name, read_secret(args.name))
    elif args.action == "show":
        secrets_show(args.stage, args.name)
    elif args.action == "delete":
        secrets_delete(args.stage, args.name, yes=args.yes)
    else:
        secrets_put(args.stage, rotate=args.rotate)


def _operator_database(args: argparse.Namespace) -> None:
    if args.action == "versions":
        opsdb.versions(args.stage)
    elif args.action in ("export", "import"):
        opsdb_transfer.run(args)
    else:
        opsdb.restore(args.stage, args.version_id, yes=args.yes)


def _stack_command(args: argparse.Namespace) -> None:
    given = dict(p.split("=", 1) for p in args.param)
    if args.action == "plan":
        stack_plan(args.stage, args.template, given)
    else:
        stack_apply(args.stage, args.template, given, yes=args.yes)


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` (the process's arguments by default) and run the command."""
    args = build_parser().parse_args(argv)
    if args.group == "keys" and args.action == "rotate":
        _rotate(args)
    elif args.group == "keys":
        keys_create(args.stage)
    elif args.group == "secrets":
        _secret(args)
    elif args.group == "stack":
        _stack_command(args)
    elif args.group == "opsdb":
        _operator_database(args)
    elif args.group == "opsdb-switch":
        opsdb_switch.run(args)
    elif args.group == "migrate":
        release.migrate_command(args.stage)
    elif args.group == "release":
        release.release(args.stage, base_url=args.base_url, run_smoke=not args.no_smoke)
    elif args.group == "status":
        live.status(args.stage)
    elif args.group == "rollback":
        live.rollback(args.stage, args.to_version)
    elif args.group == "recycle":
        live.recycle(args.stage, args.reason)
    elif args.group == "domain":
        domain.domain(args.stage, args.name, args.certificate_arn)
    elif args.group == "configure":
        configure(args.stage, without_edge=args.without_edge)
    elif args.group == "table-restore":
        tables.table_restore(args.stage, args.table, args.to, yes=args.yes)
    elif args.group == "throttle":
        stage_throttle(args.stage, rate=args.rate, burst=args.burst)


if __name__ == "__main__":
    main(sys.argv[1:])
