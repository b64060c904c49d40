"""Counters and markers that expire, with the atomic operations the login throttle and token
revocation need. Every record carries its expiry and is ignored once past it, whether or not
it has been deleted yet (DynamoDB's TTL deletes within days, not at the instant)."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone


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

    def is_marked(self, key: str) -> bool:
        """Whether an unexpired marker is set."""


def seconds_until(when: datetime, now: datetime) -> int:
    return max(1, math.ceil((when - now).total_seconds()))


class SqlExpiringState:
    """The embedded default's state, in its SQLite database. SQLite runs each transaction in
    IMMEDIATE mode (settings: it takes the write lock at BEGIN), so a read and the write after
    it are one step across processes. On another database the row lock of select_for_update
    covers an existing count only; production counts in DynamoDB."""

    def _records(self) -> Any:
        from voj.models import SecurityRecord

        return SecurityRecord.objects

    def take(self, key: str, *, limit: int, window_seconds: int, subject: str = "") -> int | None:
        now = timezone.now()
        records = self._records()
        with transaction.atomic():
            records.filter(expires_at__lte=now).delete()  # expiry, done as we go
            record = records.select_for_update().filter(key=key).first()
            if record is not None and record.count >= limit:
                return seconds_until(record.expires_at, now)
            records.update_or_create(
                key=key,
                defaults={
                    "count": (record.count if record else 0) + 1,
                    "expires_at": now + timedelta(seconds=window_seconds),
                    "subject": subject[:200],
                },
            )
        return None

    def give_back(self, key: str) -> None:
        from django.db.models import F

        self._records().filter(key=key, count__gt=0).update(count=F("count") - 1)

    def clear(self, key: str) -> None:
        self._records().filter(key=key).delete()

    def count(self, key: str) -> int:
        record = self._records().filter(key=key, expires_at__gt=timezone.now()).first()
        return record.count if record else 0

    def mark(self, key: str, *, expires_at: datetime, subject: str = "") -> bool:
        now = timezone.now()
        records = self._records()
        with transaction.atomic():
            records.filter(expires_at__lte=now).delete()
            if records.select_for_update().filter(key=key).exists():
                return False
            records.create(key=key, count=1, expires_at=expires_at, subject=subject[:200])
        return True

    def is_marked(self, key: str) -> bool:
        return self._records().filter(key=key, expires_at__gt=timezone.now()).exists()
