"""Every request to DynamoDB: retries the service leaves to the caller, and the mapping of its
errors to domain errors.

botocore retries throttled requests itself (adaptive mode, voj/aws.py). It does not retry what
DynamoDB cancels: a transaction cancelled because another one touched the same items
(``TransactionConflict``), or throttled inside (``ThrottlingError``), and a single write refused
because a transaction holds its item (``TransactionConflictException``). Nothing was written in
either case and every condition is evaluated again, so these are retried here with full-jitter
exponential backoff; what still fails is ``RepositoryBusy`` (503), never a ``VersionConflict``
(409), which means only that the stored version is not the one the caller read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from books.errors import ItemTooLarge, RepositoryBusy, RepositoryUnavailable

# After botocore's own retries: the request was throttled all along.
_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}
_UNAVAILABLE = {"InternalServerError", "ServiceUnavailable", "LimitExceededException"}
# Cancellation reasons that say nothing about the data: try the transaction again.
_TRANSIENT_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
CONDITION_FAILED = "ConditionalCheckFailed"

ATTEMPTS = 5
BATCH_ATTEMPTS = 8
BACKOFF_BASE = 0.025  # seconds
BACKOFF_CAP = 1.0
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100


def backoff(attempt: int) -> float:
    """Full jitter: anywhere from 0 to an exponentially growing, capped bound, so writers that
    collided do not collide again in step."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))  # noqa: S311


def pause(attempt: int) -> None:
    time.sleep(backoff(attempt))


class ConditionFailed(Exception):
    """A single write's condition failed; ``item`` is the stored item (ALL_OLD), if any."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.item = item


class Cancelled(Exception):
    """A transaction was cancelled because a condition failed; one reason per item, in order."""

    def __init__(
        self, reasons: list[str], items: list[dict[str, Any] | None] | None = None
    ) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons
        self.items = items or [None] * len(reasons)

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == CONDITION_FAILED

    def found(self, index: int) -> bool:
        """Whether the item whose condition failed exists (asked for with ALL_OLD)."""
        return index < len(self.items) and bool(self.items[index])


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _too_large(message: str) -> bool:
    return "size" in message.lower() and "exceed" in message.lower()


def _mapped(error: ClientError) -> Exception:
    code = _code(error)
    if code in _THROTTLED:
        return RepositoryBusy()
    if code in _UNAVAILABLE:
        return RepositoryUnavailable()
    if code == "ValidationException" and _too_large(error.response["Error"].get("Message", "")):
        return ItemTooLarge()
    return error


class Calls:
    """The DynamoDB client as the repository uses it."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self.client, operation)
        for attempt in range(ATTEMPTS):
            try:
                return method(**params)
            except ClientError as error:
                code = _code(error)
                if code == "ConditionalCheckFailedException":
                    raise ConditionFailed(error.response.get("Item")) from error
                if code == "TransactionCanceledException":
                    self._cancelled(error)
                elif code != "TransactionConflictException":
                    raise _mapped(error) from error
                # Cancelled or refused by a concurrent transaction: nothing was written.
                if attempt == ATTEMPTS - 1:
                    raise RepositoryBusy() from error
                pause(attempt)
            except BotoCoreError as error:
                raise RepositoryUnavailable() from error
        raise AssertionError("unreachable")

    @staticmethod
    def _cancelled(error: ClientError) -> None:
        """Raise what a cancelled transaction means, or return if it may simply be retried."""
        reasons = error.response.get("CancellationReasons") or []
        codes = [reason.get("Code", "None") for reason in reasons]
        if CONDITION_FAILED in codes:
            raise Cancelled(codes, [reason.get("Item") for reason in reasons]) from error
        if any(code in _TRANSIENT_REASONS for code in codes):
            return
        messages = [reason.get("Message", "") for reason in reasons]
        if any(_too_large(message) for message in messages) or _too_large(str(error)):
            raise ItemTooLarge() from error
        raise error

    def transact(self, items: list[dict[str, Any]]) -> None:
        self.call("transact_write_items", TransactItems=items)

    def batch_write(self, table: str, requests: list[dict[str, Any]]) -> None:
        """Write in batches of 25; items DynamoDB leaves unprocessed (throttled partitions) are
        sent again after a backoff, a bounded number of times."""
        for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
            pending: dict[str, Any] = {table: chunk}
            for attempt in range(BATCH_ATTEMPTS):
                if attempt:
                    pause(attempt)
                response = self.call("batch_write_item", RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
            else:
                raise RepositoryBusy()

    def batch_get(
        self, table: str, keys: list[dict[str, Any]], *, consistent: bool = False
    ) -> list[dict[str, Any]]:
        """Read by key in batches of 100, retrying unprocessed keys like ``batch_write``."""
        items: list[dict[str, Any]] = []
        for chunk in _chunks(keys, BATCH_GET_LIMIT):
            found = self.batch_get_tables({table: {"Keys": chunk, "ConsistentRead": consistent}})
            items += found.get(table, [])
        return items

    def batch_get_tables(self, request: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """One BatchGetItem over several tables (``RequestItems``, 100 keys at most), the keys
        DynamoDB leaves unprocessed sent again after a backoff: the items found, by table."""
        found: dict[str, list[dict[str, Any]]] = {}
        pending = request
        for attempt in range(BATCH_ATTEMPTS):
            if attempt:
                pause(attempt)
            response = self.call("batch_get_item", RequestItems=pending)
            for table, items in response.get("Responses", {}).items():
                found.setdefault(table, []).extend(items)
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                return found
        raise RepositoryBusy()


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
