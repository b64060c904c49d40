"""Publishing for the books written before it existed: an operator's one-off pass.

The SQL migration (books/migrations/0003_book_publishing.py) decides, and this applies the same
rule to the DynamoDB book items that have no ``status``: a book with a ready chapter is
published since its creation, any other is a draft. It scans the books table, which no API path
ever does: it runs from ``manage.py backfill_publishing`` in a release, and again is harmless.

Each write (the book item and its head's copy of the status, in one transaction) is conditional
on the item still lacking a status, so it never overrides a publish or
an unpublish made meanwhile, and it leaves ``version`` and ``updated_at`` alone: nobody edited
the book, and an editor's edit in flight still applies.

``backfill_ready_counts`` gives every head its ``ready_count`` (the ready chapters, what a
listener is told a book has), counted with a consistent Query. A head without one reads 0
meanwhile (items.chapter_count): hidden rather than exposed. The chapter writes ADD to it from
the moment the new code runs, so a head may already hold a count that started from nothing: the
backfill recounts every head and SETs the count where it differs, never ADDs. The SET is
conditional on the head still holding the count read before counting (or none), so a chapter
write that moves it while the chapters are counted makes the SET fail, and it counts again. What
remains: two opposite moves during one count (one chapter becoming ready, another ceasing to be)
leave the head as read while the count may have missed both; and chapters that cross READY on
the previous code, which does not count them, between this pass and the code switch. Either
leaves a count off until the next pass (every release runs it; running it again is harmless).

``backfill_head_owners`` copies each book's owner onto its head, where the head lacks it: the
listener's hot paths decide visibility from the head alone (access.py), and fall back to the
book item for a head without the copy. An owner never changes, so the copy cannot go stale; the
SET is conditional on the head still existing and still lacking it, so a book deleted meanwhile
is skipped and a second pass writes nothing. The old code, still serving until the update,
writes heads without it (a book it creates): the pass after the update, or that book's next
status or cover change on the new code, gives them theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from books.domain import BookStatus, ChapterStatus
from books.repository.tables import BOOK_ITEM, HEAD_ITEM

from .calls import Calls, Cancelled, ConditionFailed
from .items import book_key, head_key, item_to_book, serialize, visibility_keys


@dataclass
class BackfillCounts:
    published: int = 0
    drafts: int = 0
    # Changed or deleted by someone else between the scan and the write.
    skipped: int = 0


@dataclass
class ReadyCounts:
    counted: int = 0
    # Already right: nothing written.
    unchanged: int = 0
    # Deleted meanwhile, or moved by chapter writes at every attempt.
    skipped: int = 0


@dataclass
class OwnerCopies:
    copied: int = 0
    # Deleted between the scan and the write, or copied meanwhile.
    skipped: int = 0


# A head whose count moves at each attempt is left to the next pass.
_COUNT_ATTEMPTS = 3


def _pages(calls: Calls, operation: str, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Each page of a Scan or Query, following LastEvaluatedKey to the end."""
    while True:
        response: dict[str, Any] = calls.call(operation, **request)
        yield response
        if "LastEvaluatedKey" not in response:
            return
        request = {**request, "ExclusiveStartKey": response["LastEvaluatedKey"]}


def backfill_publishing(calls: Calls, *, books_table: str, chapters_table: str) -> BackfillCounts:
    counts = BackfillCounts()
    request: dict[str, Any] = {
        "TableName": books_table,
        "FilterExpression": "sk = :book AND attribute_not_exists(#status)",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":book": {"S": BOOK_ITEM}},
    }
    for response in _pages(calls, "scan", request):
        for item in response.get("Items", []):
            book = item_to_book(item, head=None)
            playable = _ready_chapters(calls, chapters_table, book.id) > 0
            if playable:
                book = book.replace(status=BookStatus.PUBLISHED, published_at=book.created_at)
            if not _store_status(calls, books_table, book):
                counts.skipped += 1
            elif playable:
                counts.published += 1
            else:
                counts.drafts += 1
    return counts


def _store_status(calls: Calls, books_table: str, book: Any) -> bool:
    """The status on the book item and on its head (which the listings read consistently,
    items.head_to_item), together."""
    values: dict[str, Any] = {":status": str(book.status), **_prefixed(visibility_keys(book))}
    update = "SET #status = :status, visible_pk = :visible_pk, visible_sk = :visible_sk"
    if book.published_at is not None:
        update += ", published_at = :published_at"
        values[":published_at"] = book.published_at.isoformat()
    names = {"#status": "status"}
    try:
        calls.transact(
            [
                {
                    "Update": {
                        "TableName": books_table,
                        "Key": book_key(book.id),
                        "UpdateExpression": update,
                        "ConditionExpression": "attribute_exists(book_id) AND "
                        "attribute_not_exists(#status)",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": serialize(values),
                    }
                },
                {
                    "Update": {
                        "TableName": books_table,
                        "Key": head_key(book.id),
                        # No condition: the book's own (above) already says it exists.
                        "UpdateExpression": "SET #status = :status",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": serialize({":status": str(book.status)}),
                    }
                },
            ]
        )
    except Cancelled:
        return False
    return True


def _prefixed(values: dict[str, str]) -> dict[str, str]:
    return {f":{name}": value for name, value in values.items()}


def backfill_ready_counts(calls: Calls, *, books_table: str, chapters_table: str) -> ReadyCounts:
    counts = ReadyCounts()
    request: dict[str, Any] = {
        "TableName": books_table,
        "FilterExpression": "sk = :head",
        "ProjectionExpression": "book_id, ready_count, deleting",
        "ExpressionAttributeValues": {":head": {"S": HEAD_ITEM}},
        "ConsistentRead": True,
    }
    for response in _pages(calls, "scan", request):
        for head in response.get("Items", []):
            outcome = _count_ready(calls, books_table, chapters_table, head)
            setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


def _count_ready(
    calls: Calls, books_table: str, chapters_table: str, head: dict[str, Any] | None
) -> str:
    """The head's ready count set to the count of the book's ready chapters, if the head still
    holds what it held before counting: ``counted``, ``unchanged`` or ``skipped``."""
    for _ in range(_COUNT_ATTEMPTS):
        if head is None or "deleting" in head:
            return "skipped"
        book_id = head["book_id"]["S"]
        seen = head.get("ready_count")
        ready = _ready_chapters(calls, chapters_table, book_id)
        if seen is not None and int(seen["N"]) == ready:
            return "unchanged"
        condition = "attribute_exists(book_id) AND attribute_not_exists(deleting) AND "
        values = serialize({":ready": ready})
        if seen is None:
            condition += "attribute_not_exists(ready_count)"
        else:
            condition += "ready_count = :seen"
            values[":seen"] = seen
        try:
            calls.call(
                "update_item",
                TableName=books_table,
                Key=head_key(book_id),
                UpdateExpression="SET ready_count = :ready",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            head = failed.item
            continue
        return "counted"
    return "skipped"


def _ready_chapters(calls: Calls, chapters_table: str, book_id: str) -> int:
    request: dict[str, Any] = {
        "TableName": chapters_table,
        "KeyConditionExpression": "book_id = :b",
        "FilterExpression": "#status = :ready",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": serialize({":b": book_id, ":ready": ChapterStatus.READY}),
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    ready = 0
    for response in _pages(calls, "query", request):
        ready += int(response.get("Count", 0))
    return ready


def backfill_head_owners(calls: Calls, *, books_table: str) -> OwnerCopies:
    copies = OwnerCopies()
    request: dict[str, Any] = {
        "TableName": books_table,
        "FilterExpression": "sk = :head AND attribute_not_exists(#owner)",
        "ProjectionExpression": "book_id",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {":head": {"S": HEAD_ITEM}},
    }
    for response in _pages(calls, "scan", request):
        for head in response.get("Items", []):
            if _copy_owner(calls, books_table, head["book_id"]["S"]):
                copies.copied += 1
            else:
                copies.skipped += 1
    return copies


def _copy_owner(calls: Calls, books_table: str, book_id: str) -> bool:
    book = calls.call(
        "get_item",
        TableName=books_table,
        Key=book_key(book_id),
        ProjectionExpression="#owner",
        ExpressionAttributeNames={"#owner": "owner"},
        ConsistentRead=True,
    ).get("Item")
    if book is None:
        return False
    try:
        calls.call(
            "update_item",
            TableName=books_table,
            Key=head_key(book_id),
            UpdateExpression="SET #owner = :owner",
            ConditionExpression="attribute_exists(book_id) AND attribute_not_exists(#owner)",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": book["owner"]},
        )
    except ConditionFailed:
        return False
    return True
