"""The chapter writes: a chapter, its number's slot and its book's head move together.

The head keeps two counts, ``chapter_count`` (every chapter) and ``ready_count`` (the ready
ones, what a listener is told: books/services/books.py). Every write that changes either is in
one transaction with the chapter's own, conditional on the chapter being as the caller read it,
so concurrent writes never lose a count: a chapter created, deleted or updated across READY
moves the head by ``ADD``, which DynamoDB applies atomically to whatever the head holds.
"""

from __future__ import annotations

from typing import Any

from books.domain import Chapter, ChapterStatus
from books.errors import BookNotFound, ChapterNotFound, ChapterNumberTaken, VersionConflict

from .calls import Calls, Cancelled, ConditionFailed
from .items import chapter_key, chapter_to_item, head_key, serialize, slot_key, slot_to_item

_EXISTS = "attribute_exists(book_id)"
# Chapters may be added to or moved within a book that exists and is not being deleted.
_BOOK_OPEN = "attribute_exists(book_id) AND attribute_not_exists(deleting)"
# The chapter is stored at the version the caller read (false when it is gone).
_AS_READ = "version = :expected"
# The slot still belongs to this chapter.
_SLOT_HELD = "chapter_id = :id"


def ready(chapter: Chapter) -> int:
    """What the chapter adds to its book's ready count."""
    return 1 if chapter.status == ChapterStatus.READY else 0


def create_chapter(calls: Calls, books_table: str, chapters_table: str, chapter: Chapter) -> None:
    try:
        calls.transact(
            [
                _put(chapters_table, chapter_to_item(chapter), "attribute_not_exists(chapter_id)"),
                _put(books_table, slot_to_item(chapter), "attribute_not_exists(sk)"),
                _count(books_table, chapter.book_id, +1, ready(chapter), _BOOK_OPEN),
            ]
        )
    except Cancelled as cancelled:
        if cancelled.failed(2):
            raise BookNotFound() from cancelled
        if cancelled.failed(1):
            raise ChapterNumberTaken() from cancelled
        raise VersionConflict("A chapter with this id already exists.") from cancelled


def update_chapter(
    calls: Calls, books_table: str, chapters_table: str, stored: Chapter, *, previous: Chapter
) -> None:
    """``stored`` (at its new version) over ``previous``. The put's condition says the stored
    chapter is ``previous``, so the ready count moves by exactly what this write changes."""
    put = {
        "Put": {
            "TableName": chapters_table,
            "Item": chapter_to_item(stored),
            "ConditionExpression": _AS_READ,
            "ExpressionAttributeValues": serialize({":expected": previous.version}),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    delta = ready(stored) - ready(previous)
    if previous.number == stored.number:
        if not delta:
            _put_alone(calls, put["Put"])
            return
        # A completion, a failure after completion or a re-upload: the head's ready count in
        # the same transaction, in a book that exists (not a head brought back by ADD).
        try:
            calls.transact([put, _count(books_table, stored.book_id, 0, delta, _EXISTS)])
        except Cancelled as cancelled:
            if cancelled.failed(0):
                error = VersionConflict() if cancelled.found(0) else ChapterNotFound()
                raise error from cancelled
            raise BookNotFound() from cancelled
        return
    _renumber(calls, books_table, put, stored, previous=previous, delta=delta)


def delete_chapter(calls: Calls, books_table: str, chapters_table: str, chapter: Chapter) -> None:
    try:
        calls.transact(
            [
                {
                    "Delete": {
                        "TableName": chapters_table,
                        "Key": chapter_key(chapter.book_id, chapter.id),
                        "ConditionExpression": _AS_READ,
                        "ExpressionAttributeValues": serialize({":expected": chapter.version}),
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Delete": {
                        "TableName": books_table,
                        "Key": slot_key(chapter.book_id, chapter.number),
                        "ConditionExpression": _SLOT_HELD,
                        "ExpressionAttributeValues": {":id": {"S": chapter.id}},
                    }
                },
                _count(books_table, chapter.book_id, -1, -ready(chapter), _EXISTS),
            ]
        )
    except Cancelled as cancelled:
        if cancelled.failed(0) and not cancelled.found(0):
            raise ChapterNotFound() from cancelled
        if cancelled.failed(2):
            raise BookNotFound() from cancelled
        raise VersionConflict() from cancelled


def _renumber(
    calls: Calls,
    books_table: str,
    put: dict[str, Any],
    stored: Chapter,
    *,
    previous: Chapter,
    delta: int,
) -> None:
    # A new number: the chapter, its old slot and its new one move together, in a book that
    # still exists and is not being deleted (the head's update, or its check, says so).
    head = (
        _count(books_table, stored.book_id, 0, delta, _BOOK_OPEN)
        if delta
        else {
            "ConditionCheck": {
                "TableName": books_table,
                "Key": head_key(previous.book_id),
                "ConditionExpression": _BOOK_OPEN,
            }
        }
    )
    try:
        calls.transact(
            [
                put,
                _put(books_table, slot_to_item(stored), "attribute_not_exists(sk)"),
                {
                    "Delete": {
                        "TableName": books_table,
                        "Key": slot_key(previous.book_id, previous.number),
                        "ConditionExpression": _SLOT_HELD,
                        "ExpressionAttributeValues": {":id": {"S": previous.id}},
                    }
                },
                head,
            ]
        )
    except Cancelled as cancelled:
        if cancelled.failed(0) and not cancelled.found(0):
            raise ChapterNotFound() from cancelled
        if cancelled.failed(0) or cancelled.failed(2):
            raise VersionConflict() from cancelled
        if cancelled.failed(3):
            raise BookNotFound() from cancelled
        raise ChapterNumberTaken() from cancelled


def _put_alone(calls: Calls, put: dict[str, Any]) -> None:
    """A same-number update that changes no count: one PutItem, no transaction."""
    try:
        calls.call("put_item", **put)
    except ConditionFailed as failed:
        raise (VersionConflict() if failed.item else ChapterNotFound()) from failed


def _count(table: str, book_id: str, chapters: int, ready_chapters: int, condition: str) -> dict:
    """The head's counts moved by ``chapters`` and ``ready_chapters``, in a transaction, under
    ``condition``."""
    moves = [f"{name} :{name}" for name, delta in _deltas(chapters, ready_chapters) if delta]
    values = {f":{name}": delta for name, delta in _deltas(chapters, ready_chapters) if delta}
    return {
        "Update": {
            "TableName": table,
            "Key": head_key(book_id),
            "UpdateExpression": "ADD " + ", ".join(moves),
            "ConditionExpression": condition,
            "ExpressionAttributeValues": serialize(values),
        }
    }


def _deltas(chapters: int, ready_chapters: int) -> list[tuple[str, int]]:
    return [("chapter_count", chapters), ("ready_count", ready_chapters)]


def _put(table: str, item: dict[str, Any], condition: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": condition}}
