"""Restore a stage's tables to a point in time, into new tables, ready to put in service.

    python -m deploy table-restore STAGE TABLE [TABLE ...] --to 2026-12-02T21:30:00Z [--yes]

DynamoDB restores only into a new table. This command restores the table now in service (the
core stack's output, so a second restore starts from the first), waits for it, and gives the
new table what a restore does not carry over and the stack gives its own tables: point-in-time
recovery, deletion protection (prod), TTL, streams and tags. Indexes, keys, billing mode and
encryption come with the restore. It then prints the commands that put the tables in service:
a core stack update naming them (the function's role and the outputs follow), `configure`,
`make package` and `release`. The old tables stay as they are, for comparison and forensics.
docs/runbook.md, "Restoring a table to a point in time", says why this design and not a copy
back into the live table.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from deploy import shared, stacks
from deploy.shared import DEPLOY, say
from voj.dynamodb_tables import template_resources


@dataclass(frozen=True)
class Kind:
    base: str  # the stack's table name before "-STAGE"
    resource: str  # the table's resource in deploy/stack.yaml

    @property
    def output(self) -> str:  # the core stack's output naming the table in service
        return self.resource + "Name"

    @property
    def parameter(self) -> str:  # the core stack's parameter that puts a table in service
        return self.resource + "InService"


KINDS = {
    "books": Kind("voj-books", "BooksTable"),
    "chapters": Kind("voj-audio-chapters", "ChaptersTable"),
    "security": Kind("voj-security", "SecurityTable"),
    "listening": Kind("voj-listening", "ListeningTable"),
}


def restore_time(text: str) -> datetime.datetime:
    """An ISO 8601 time with its zone (a restore point must not depend on this machine's)."""
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"--to {text!r}: not an ISO 8601 time (2026-12-02T21:30:00Z)") from None
    if when.tzinfo is None:
        raise SystemExit(f"--to {text!r}: give the time zone, e.g. 2026-12-02T21:30:00Z")
    if when > datetime.datetime.now(datetime.UTC):
        raise SystemExit(f"--to {text}: in the future")
    return when.astimezone(datetime.UTC)


def target_name(stage: str, kind: str, when: datetime.datetime) -> str:
    """The restored table's name; the core stack's AllowedPattern accepts exactly these."""
    return f"{KINDS[kind].base}-{stage}-restored-{when:%Y%m%d-%H%M%S}"


def _check_window(dynamodb: Any, source: str, when: datetime.datetime) -> None:
    backups = dynamodb.describe_continuous_backups(TableName=source)
    pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise SystemExit(f"{source}: point-in-time recovery is off; no restore is possible")
    earliest = pitr.get("EarliestRestorableDateTime")
    if earliest and when < earliest:
        raise SystemExit(f"{source}: the earliest restorable time is {earliest.isoformat()}")


def _restore_request(source: dict[str, Any], target: str, when: datetime.datetime) -> dict:
    """Keys, indexes and items come with the restore; billing mode and the encryption key are
    stated so that the new table is billed and encrypted as the old one."""
    request: dict[str, Any] = {
        "SourceTableName": source["TableName"],
        "TargetTableName": target,
        "RestoreDateTime": when,
    }
    billing = source.get("BillingModeSummary", {}).get("BillingMode")
    if billing:
        request["BillingModeOverride"] = billing
    # The stack's SSEEnabled: true is KMS with the AWS-managed key (aws/dynamodb), which a
    # restore does not choose by itself: it would use the AWS-owned key.
    if source.get("SSEDescription", {}).get("Status") == "ENABLED":
        request["SSESpecificationOverride"] = {"Enabled": True, "SSEType": "KMS"}
    return request


def _carry_over(
    dynamodb: Any, stage: str, resource: str, source: dict[str, Any], target: str
) -> None:
    """What a restore leaves behind and the stack gives its tables."""
    dynamodb.update_continuous_backups(
        TableName=target, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    if stage == "prod" or source.get("DeletionProtectionEnabled"):
        dynamodb.update_table(TableName=target, DeletionProtectionEnabled=True)
    # TTL as the stack defines it (the source's own setting could have been lost with it).
    ttl = template_resources(DEPLOY / "stack.yaml")[resource]["Properties"].get(
        "TimeToLiveSpecification"
    )
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=target,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    stream = source.get("StreamSpecification", {})
    if stream.get("StreamEnabled"):
        dynamodb.update_table(TableName=target, StreamSpecification=stream)
    tags = dynamodb.list_tags_of_resource(ResourceArn=source["TableArn"]).get("Tags", [])
    target_arn = dynamodb.describe_table(TableName=target)["Table"]["TableArn"]
    dynamodb.tag_resource(
        ResourceArn=target_arn,
        Tags=[t for t in tags if not t["Key"].startswith("aws:")]  # aws: tags are CloudFormation's
        + [{"Key": "voj:restored-from", "Value": source["TableName"]}],
    )


def restore(stage: str, kind: str, when: datetime.datetime) -> str:
    """Restore the table in service of ``kind`` to ``when`` as a new table, with the settings
    the stack gives its tables; return the new table's name."""
    source_name = stacks.stack_outputs(stage, "core")[KINDS[kind].output]
    target = target_name(stage, kind, when)
    dynamodb = shared.client("dynamodb")
    _check_window(dynamodb, source_name, when)
    source = dynamodb.describe_table(TableName=source_name)["Table"]
    say(f"{kind}: restoring {source_name} as of {when.isoformat()} into {target}")
    dynamodb.restore_table_to_point_in_time(**_restore_request(source, target, when))
    # A restore takes minutes to hours, with the table's size.
    dynamodb.get_waiter("table_exists").wait(
        TableName=target, WaiterConfig={"Delay": 20, "MaxAttempts": 1080}
    )
    _carry_over(dynamodb, stage, KINDS[kind].resource, source, target)
    say(f"{kind}: {target} is ACTIVE, with point-in-time recovery, protection, TTL and tags")
    return target


def table_restore(stage: str, kinds: list[str], to: str, *, yes: bool) -> dict[str, str]:
    """Restore each kind's table to the same point in time; print how to put them in service."""
    when = restore_time(to)
    kinds = list(dict.fromkeys(kinds))
    if {"books", "chapters"} & set(kinds) and not {"books", "chapters"} <= set(kinds):
        say("note: books and chapters refer to each other; restore both to the same time")
    asked = f"restore {', '.join(kinds)} of {stage} as of {when.isoformat()}? [y/N] "
    if not yes and input(asked).strip().lower() != "y":
        say("nothing restored")
        return {}
    restored = {kind: restore(stage, kind, when) for kind in kinds}
    params = " ".join(f"--param {KINDS[k].parameter}={name}" for k, name in restored.items())
    say("to serve from the restored tables (docs/runbook.md):")
    say(f"  python -m deploy stack apply {stage} --template core {params}")
    say(f"  python -m deploy configure {stage}")
    say(f"  make package STAGE={stage}")
    say(f"  python -m deploy release {stage}")
    return restored
