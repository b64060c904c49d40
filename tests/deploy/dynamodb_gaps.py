"""What moto 5's DynamoDB lacks for the table-restore drill, shimmed at botocore's event hooks of
the clients the deploy tools build (deploy.shared.client); docs/deploy.md lists it:

- pitr-restore-time: moto's RestoreTableToPointInTime copies the source table's items as they are
  now, whatever RestoreDateTime says. The drill marks moments with `mark(table)`, a CreateBackup
  on moto (the table's items at that moment); the shim answers a restore with
  RestoreTableFromBackup of the source's latest mark at or before RestoreDateTime, so the new
  table holds the items of that time (before every mark, it refuses as DynamoDB refuses a time
  before the earliest restorable one). Its requests go through a client of its own, so the IAM
  recorder sees only what the tools send.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import boto3
import botocore.awsrequest
from botocore.exceptions import ClientError

from deploy import shared


class DynamoDBGaps:
    def __init__(self) -> None:
        self.marks: dict[str, list[tuple[datetime.datetime, str]]] = {}

    def _moto(self, region: str) -> Any:
        return boto3.client(
            "dynamodb", region_name=region, endpoint_url=os.environ.get("VOJ_AWS_ENDPOINT_URL")
        )

    def mark(self, table: str, region: str = shared.REGION) -> datetime.datetime:
        """Remember the table's items as of now; returns the moment, just after the mark."""
        backup = self._moto(region).create_backup(TableName=table, BackupName=f"mark-{table}")
        when = datetime.datetime.now(datetime.UTC)
        self.marks.setdefault(table, []).append((when, backup["BackupDetails"]["BackupArn"]))
        return when

    def _restore(self, params: dict[str, Any], region: str) -> Any:
        when = params["RestoreDateTime"]
        earlier = [arn for at, arn in self.marks.get(params["SourceTableName"], []) if at <= when]
        if not earlier:
            raise ClientError(
                {"Error": {"Code": "InvalidRestoreTimeException", "Message": "no mark before"}},
                "RestoreTableToPointInTime",
            )
        restored = self._moto(region).restore_table_from_backup(
            TargetTableName=params["TargetTableName"], BackupArn=earlier[-1]
        )
        parsed = {"TableDescription": restored["TableDescription"]}
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200}
        return botocore.awsrequest.AWSResponse("", 200, {}, None), parsed

    def register(self, client: Any) -> Any:
        region = client.meta.region_name

        def keep_params(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
            context["api_params"] = dict(params)

        def restore(context: dict[str, Any], **kwargs: Any) -> Any:
            return self._restore(context["api_params"], region)

        events = client.meta.events
        events.register("before-parameter-build.dynamodb.RestoreTableToPointInTime", keep_params)
        events.register("before-call.dynamodb.RestoreTableToPointInTime", restore)
        return client


def install(monkeypatch: Any) -> DynamoDBGaps:
    """The shim, on every DynamoDB client the deploy tools build from now on."""
    gaps = DynamoDBGaps()
    build = shared.client

    def client(service: str, region: str = shared.REGION) -> Any:
        built = build(service, region)
        return gaps.register(built) if service == "dynamodb" else built

    monkeypatch.setattr(shared, "client", client)
    return gaps
