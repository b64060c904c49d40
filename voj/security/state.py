"""Counters and markers that expire, with the atomic operations the login throttle and token
revocation need. Every record carries its expiry and is ignored once past it, whether or not
it has been deleted yet (DynamoDB's TTL deletes within days, not at the instant)."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from voj.item_reads import ItemRead
from voj.models import SecurityRecord


def state_key(kind: str, value: str) -> str:
    """A fixed-length key: a client-chosen username can be any length and any characters."""
    return f"{kind}#{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"


class ExpiringState(Protocol):
    def take(self, key: str, *, limit: int, window_seconds: int, subject: str = "") -> int | None:
        """Count one more attempt unless ``limit`` are already counted. The count is forgotten
        ``window_seconds`` after the last attempt counted. Returns None when counted, else the
        seconds until the count expires. Atomic across processes."""

    def give_back(self, key: str) -> None:
        """Uncount one attempt (not below zero)."""

    def clear(self, key: str) -> None:
        """Forget the record."""

    def count(self, key: str) -> int:
        """The current count (0 when absent or expired)."""

    def mark(self, key: str, *, expires_at: datetime, subject: str = "") -> bool:
        """Set a marker until ``expires_at``; False if it was already set. Atomic."""

    def put(self, key: str, *, value: str, expires_at: datetime, subject: str = "") -> None:
        """Set ``value`` until ``expires_at``, over whatever was there (the last write wins)."""

    def get(self, key: str) -> str | None:
        """The unexpired record's value ("" for a count or a marker), or None."""

    def item_read(self, key: str) -> ItemRead | None:
        """The record as an item another DynamoDB request may read alongside its own
        (voj/item_reads.py), or None where the state is no DynamoDB table."""

    def value_of(self, read: ItemRead) -> str | None:
        """``get``'s answer from an ``item_read`` that another request made."""


def seconds_until(when: datetime, now: datetime) -> int:
    return max(1, math.ceil((when - now).total_seconds()))


# Attempts at creating a count that another process may be creating at the same moment.
_CREATE_RACES = 3


class SqlExpiringState:
    """The embedded default's state, in its SQLite database. SQLite runs each transaction in
    IMMEDIATE mode (settings: it takes the write lock at BEGIN), so a read and the write after
    it are one step across processes. On PostgreSQL the row lock of select_for_update covers an
    existing row, and the primary key decides between two processes creating the same one (the
    loser gets IntegrityError and counts on the winner's row). Production on DynamoDB counts with
    conditional writes (voj/security/dynamodb.py)."""

    def _records(self) -> Any:
        return SecurityRecord.objects

    def take(self, key: str, *, limit: int, window_seconds: int, subject: str = "") -> int | None:
        # A row that exists is locked (select_for_update) while it is counted; a row that does
        # not is created, and of two processes creating it at once the primary key lets one win:
        # the other counts again, on the winner's row.
        for _ in range(_CREATE_RACES):
            try:
                return self._take_once(key, limit=limit, window=window_seconds, subject=subject)
            except IntegrityError:
                continue
        return self._take_once(key, limit=limit, window=window_seconds, subject=subject)

    def _take_once(self, key: str, *, limit: int, window: int, subject: str) -> int | None:
        now = timezone.now()
        records = self._records()
        with transaction.atomic():
            records.filter(expires_at__lte=now).delete()  # expiry, done as we go
            record = records.select_for_update().filter(key=key).first()
            if record is not None and record.count >= limit:
                return seconds_until(record.expires_at, now)
            if record is None:
                records.create(
                    key=key,
                    count=1,
                    expires_at=now + timedelta(seconds=window),
                    subject=subject[:200],
                )
            else:
                record.count += 1
                record.expires_at = now + timedelta(seconds=window)
                record.subject = subject[:200]
                record.save(update_fields=["count", "expires_at", "subject"])
        return None

    def give_back(self, key: str) -> None:
        self._records().filter(key=key, count__gt=0).update(count=F("count") - 1)

    def clear(self, key: str) -> None:
        self._records().filter(key=key).delete()

    def count(self, key: str) -> int:
        record = self._records().filter(key=key, expires_at__gt=timezone.now()).first()
        return record.count if record else 0

    def mark(self, key: str, *, expires_at: datetime, subject: str = "") -> bool:
        now = timezone.now()
        records = self._records()
        try:
            with transaction.atomic():
                records.filter(expires_at__lte=now).delete()
                if records.select_for_update().filter(key=key).exists():
                    return False
                records.create(key=key, count=1, expires_at=expires_at, subject=subject[:200])
        except IntegrityError:
            return False  # another process marked it first (the primary key decided)
        return True

    def put(self, key: str, *, value: str, expires_at: datetime, subject: str = "") -> None:
        self._records().update_or_create(
            key=key,
            defaults={
                "value": value,
                "count": 0,
                "expires_at": expires_at,
                "subject": subject[:200],
            },
        )

    def get(self, key: str) -> str | None:
        record = self._records().filter(key=key, expires_at__gt=timezone.now()).first()
        return record.value if record else None

    def item_read(self, key: str) -> None:
        return None  # a row of the SQL database: read on its own

    def value_of(self, read: ItemRead) -> str | None:
        raise TypeError("the SQL state makes no item reads")
