"""The book item's conditional updates (edits and status changes), shared by the repository."""

from __future__ import annotations

from typing import Any

from books.domain import Book
from books.errors import BookNotFound, VersionConflict
from books.repository.tables import BOOK_ITEM, HEAD_ITEM

from .calls import Calls, Cancelled, ConditionFailed
from .items import book_key, head_key, item_to_book, serialize


def book_write(
    calls: Calls,
    table: str,
    book_id: str,
    update: str,
    names: dict[str, str],
    values: dict[str, Any],
    *,
    expected_version: int,
) -> Book:
    """One update of the book item if it is still at ``expected_version`` (``:next`` in
    ``update`` is the version after it), then its head's chapter count: the book as stored."""
    try:
        response = calls.call(
            "update_item",
            TableName=table,
            Key=book_key(book_id),
            UpdateExpression=update,
            ConditionExpression="attribute_exists(book_id) AND version = :expected",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(
                {**values, ":next": expected_version + 1, ":expected": expected_version}
            ),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ConditionFailed as failed:
        raise (VersionConflict() if failed.item else BookNotFound()) from failed
    head = calls.call("get_item", TableName=table, Key=head_key(book_id), ConsistentRead=True).get(
        "Item"
    )
    return item_to_book(response["Attributes"], head=head)


def status_write(
    calls: Calls,
    table: str,
    book: Book,
    update: str,
    names: dict[str, str],
    values: dict[str, Any],
    *,
    expected_version: int,
) -> Book:
    """``book_write`` for a status change: the book item and its head's copy of the status in
    one transaction, on a book not being deleted. The book as stored."""
    values = serialize({**values, ":next": expected_version + 1, ":expected": expected_version})
    try:
        calls.transact(
            [
                {
                    "Update": {
                        "TableName": table,
                        "Key": book_key(book.id),
                        "UpdateExpression": update,
                        "ConditionExpression": "attribute_exists(book_id) AND version = :expected",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": head_key(book.id),
                        "UpdateExpression": "SET #status = :status",
                        "ConditionExpression": "attribute_exists(book_id) AND "
                        "attribute_not_exists(deleting)",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":status": values[":status"]},
                    }
                },
            ]
        )
    except Cancelled as cancelled:
        if cancelled.failed(0) and cancelled.found(0):
            raise VersionConflict() from cancelled
        raise BookNotFound() from cancelled
    return book_read(calls, table, book.id)


def book_read(calls: Calls, table: str, book_id: str) -> Book:
    """The book and its head, the first two items of its collection, in one consistent read."""
    items = calls.call(
        "query",
        TableName=table,
        KeyConditionExpression="book_id = :b AND sk BETWEEN :book AND :head",
        ExpressionAttributeValues=serialize(
            {":b": book_id, ":book": BOOK_ITEM, ":head": HEAD_ITEM}
        ),
        ConsistentRead=True,
    ).get("Items", [])
    by_sort_key = {item["sk"]["S"]: item for item in items}
    if BOOK_ITEM not in by_sort_key:
        raise BookNotFound()
    return item_to_book(by_sort_key[BOOK_ITEM], head=by_sort_key.get(HEAD_ITEM))
