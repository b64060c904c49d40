"""The security state in DynamoDB: one item per key, ``expires_at`` (epoch seconds) doubling
as the table's TTL attribute. Every operation is one conditional request, so concurrent
containers cannot both pass a limit."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from voj.dynamodb_tables import create_table
from voj.item_reads import ItemRead

SECURITY_RESOURCE = "SecurityTable"  # in deploy/stack.yaml
TTL_ATTRIBUTE = "expires_at"
_TAKE_ATTEMPTS = 4


# Absent, or present but expired (TTL deletes within days, not at the instant): free to set.
_FREE = "attribute_not_exists(pk) OR expires_at <= :now"


def _record(key: str, *, hits: int, expires_at: int, subject: str, value: str = "") -> dict:
    return {
        "pk": {"S": key},
        "hits": {"N": str(hits)},
        "value": {"S": value},
        "expires_at": {"N": str(expires_at)},
        "subject": {"S": subject[:200]},
    }


def _live(item: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    return item if item and int(item["expires_at"]["N"]) > now else None


class DynamoDBExpiringState:
    def __init__(self, *, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def _item(self, key: str) -> dict[str, Any] | None:
        return self.client.get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
        ).get("Item")

    def _write(self, method: str, **request: Any) -> bool:
        """One conditional write; False if its condition failed."""
        try:
            getattr(self.client, method)(TableName=self.table, **request)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _set_if_free(self, item: dict[str, Any], now: int) -> bool:
        return self._write(
            "put_item",
            Item=item,
            ConditionExpression=_FREE,
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )

    def take(self, key: str, *, limit: int, window_seconds: int, subject: str = "") -> int | None:
        for _ in range(_TAKE_ATTEMPTS):
            now = int(time.time())
            expires = now + window_seconds
            # The common case: a live count under the limit.
            counted = self._write(
                "update_item",
                Key={"pk": {"S": key}},
                UpdateExpression="SET expires_at = :expires ADD hits :one",
                ConditionExpression="attribute_exists(pk) AND expires_at > :now AND hits < :limit",
                ExpressionAttributeValues={
                    ":expires": {"N": str(expires)},
                    ":one": {"N": "1"},
                    ":now": {"N": str(now)},
                    ":limit": {"N": str(limit)},
                },
            )
            if counted:
                return None
            item = _live(self._item(key), now)
            if item and int(item["hits"]["N"]) >= limit:
                return max(1, int(item["expires_at"]["N"]) - now)
            # Absent or expired: a new count, unless another container started one first.
            record = _record(key, hits=1, expires_at=expires, subject=subject)
            if self._set_if_free(record, now):
                return None
        # Contended past every attempt: refuse rather than count nothing.
        return window_seconds

    def give_back(self, key: str) -> None:
        self._write(
            "update_item",
            Key={"pk": {"S": key}},
            UpdateExpression="ADD hits :minus",
            ConditionExpression="attribute_exists(pk) AND hits > :zero",
            ExpressionAttributeValues={":minus": {"N": "-1"}, ":zero": {"N": "0"}},
        )

    def clear(self, key: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": {"S": key}})

    def count(self, key: str) -> int:
        item = _live(self._item(key), time.time())
        return int(item["hits"]["N"]) if item else 0

    def mark(self, key: str, *, expires_at: datetime, subject: str = "") -> bool:
        now = int(time.time())
        record = _record(key, hits=1, expires_at=int(expires_at.timestamp()), subject=subject)
        return self._set_if_free(record, now)

    def put(self, key: str, *, value: str, expires_at: datetime, subject: str = "") -> None:
        record = _record(
            key, hits=0, expires_at=int(expires_at.timestamp()), subject=subject, value=value
        )
        self.client.put_item(TableName=self.table, Item=record)

    def get(self, key: str) -> str | None:
        return _value(self._item(key))

    def item_read(self, key: str) -> ItemRead:
        return ItemRead(table=self.table, key={"pk": {"S": key}}, consistent=True)

    def value_of(self, read: ItemRead) -> str | None:
        return _value(read.item)


def _value(item: dict[str, Any] | None) -> str | None:
    live = _live(item, time.time())
    # A count or a marker written before records held values has none: "".
    return live.get("value", {}).get("S", "") if live else None


def create_security_table(client: Any, name: str) -> bool:
    """Create the table with the stack's TTL if it does not exist (voj.dynamodb_tables:
    idempotent, safe under concurrent creators); True if it was made here."""
    return create_table(client, SECURITY_RESOURCE, name)
