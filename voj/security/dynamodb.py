"""The security state in DynamoDB: one item per key, ``expires_at`` (epoch seconds) doubling
as the table's TTL attribute. Every operation is one conditional request, so concurrent
containers cannot both pass a limit."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

SECURITY_RESOURCE = "SecurityTable"  # in deploy/stack.yaml
TTL_ATTRIBUTE = "expires_at"
_TAKE_ATTEMPTS = 4


def _conditional_failure(client: Any, error: Exception) -> bool:
    return isinstance(error, client.exceptions.ConditionalCheckFailedException)


class DynamoDBExpiringState:
    def __init__(self, *, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def _item(self, key: str) -> dict[str, Any] | None:
        return self.client.get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
        ).get("Item")

    def take(self, key: str, *, limit: int, window_seconds: int, subject: str = "") -> int | None:
        for _ in range(_TAKE_ATTEMPTS):
            now = int(time.time())
            expires = {"N": str(now + window_seconds)}
            try:
                # The common case: a live count under the limit.
                self.client.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": key}},
                    UpdateExpression="SET expires_at = :expires ADD hits :one",
                    ConditionExpression=(
                        "attribute_exists(pk) AND expires_at > :now AND hits < :limit"
                    ),
                    ExpressionAttributeValues={
                        ":expires": expires,
                        ":one": {"N": "1"},
                        ":now": {"N": str(now)},
                        ":limit": {"N": str(limit)},
                    },
                )
                return None
            except Exception as error:
                if not _conditional_failure(self.client, error):
                    raise
            item = self._item(key)
            if item and int(item["expires_at"]["N"]) > now and int(item["hits"]["N"]) >= limit:
                return max(1, int(item["expires_at"]["N"]) - now)
            try:
                # Absent or expired: a new count, unless another container started one first.
                self.client.put_item(
                    TableName=self.table,
                    Item={
                        "pk": {"S": key},
                        "hits": {"N": "1"},
                        "expires_at": expires,
                        "subject": {"S": subject[:200]},
                    },
                    ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                    ExpressionAttributeValues={":now": {"N": str(now)}},
                )
                return None
            except Exception as error:
                if not _conditional_failure(self.client, error):
                    raise
        # Contended past every attempt: refuse rather than count nothing.
        return window_seconds

    def give_back(self, key: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": key}},
                UpdateExpression="ADD hits :minus",
                ConditionExpression="attribute_exists(pk) AND hits > :zero",
                ExpressionAttributeValues={":minus": {"N": "-1"}, ":zero": {"N": "0"}},
            )
        except Exception as error:
            if not _conditional_failure(self.client, error):
                raise

    def clear(self, key: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": {"S": key}})

    def count(self, key: str) -> int:
        item = self._item(key)
        if not item or int(item["expires_at"]["N"]) <= time.time():
            return 0
        return int(item["hits"]["N"])

    def mark(self, key: str, *, expires_at: datetime, subject: str = "") -> bool:
        now = int(time.time())
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": key},
                    "hits": {"N": "1"},
                    "expires_at": {"N": str(int(expires_at.timestamp()))},
                    "subject": {"S": subject[:200]},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except Exception as error:
            if _conditional_failure(self.client, error):
                return False
            raise
        return True

    def put(self, key: str, *, value: str, expires_at: datetime, subject: str = "") -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": key},
                "hits": {"N": "0"},
                "value": {"S": value},
                "expires_at": {"N": str(int(expires_at.timestamp()))},
                "subject": {"S": subject[:200]},
            },
        )

    def get(self, key: str) -> str | None:
        item = self._item(key)
        if not item or int(item["expires_at"]["N"]) <= time.time():
            return None
        return item.get("value", {}).get("S", "")


def security_table_definition(name: str) -> dict[str, Any]:
    """The table as deploy/stack.yaml defines it, for the tests and the prod-like local mode."""
    from books.repository.tables import stack_resources

    properties = stack_resources()[SECURITY_RESOURCE]["Properties"]
    return {
        "TableName": name,
        "BillingMode": properties["BillingMode"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
    }


def create_security_table(client: Any, name: str) -> bool:
    """Create the table with its TTL if it does not exist (idempotent); True if it was made."""
    from books.repository.tables import stack_resources

    try:
        client.describe_table(TableName=name)
        return False
    except client.exceptions.ResourceNotFoundException:
        pass
    client.create_table(**security_table_definition(name))
    client.get_waiter("table_exists").wait(TableName=name)
    ttl = stack_resources()[SECURITY_RESOURCE]["Properties"]["TimeToLiveSpecification"]
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
    )
    return True
