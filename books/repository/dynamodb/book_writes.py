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
    return book_and_head_write(
        calls,
        table,
        book,
        (update, names, values),
        ("SET #status = :status", {"#status": "status"}, {":status": values[":status"]}),
        expected_version=expected_version,
    )


def cover_write(calls: Calls, table: str, book: Book, *, expected_version: int) -> Book:
    """The book's pending cover upload (on the book item) and its cover (on the head, which
    lists read) in one transaction, version-guarded like an edit. The book as stored."""
    update = "SET updated_at = :updated_at, version = :next"
    values: dict[str, Any] = {":updated_at": book.updated_at.isoformat()}
    if book.cover_upload_key:
        update += ", cover_upload_key = :upload"
        values[":upload"] = book.cover_upload_key
    else:
        update += " REMOVE cover_upload_key"
    head: tuple[str, dict[str, str], dict[str, Any]] = ("REMOVE cover_key", {}, {})
    if book.cover_key:
        head = ("SET cover_key = :cover", {}, {":cover": book.cover_key})
    return book_and_head_write(
        calls, table, book, (update, {}, values), head, expected_version=expected_version
    )


def book_and_head_write(
    calls: Calls,
    table: str,
    book: Book,
    book_update: tuple[str, dict[str, str], dict[str, Any]],
    head_update: tuple[str, dict[str, str], dict[str, Any]],
    *,
    expected_version: int,
) -> Book:
    """One update of the book item if it is still at ``expected_version`` (``:next`` is the
    version after it) and one of its head, in one transaction, on a book not being deleted;
    each update is (expression, names, values). The book as stored."""
    update, names, values = book_update
    book_values = serialize(
        {**values, ":next": expected_version + 1, ":expected": expected_version}
    )
    head_expression, head_names, head_values = head_update
    # Every write of the book with its head also SETs the head's copy of the owner, so a head
    # written before it carried one gets it with the next status or cover change (the backfill
    # copies the others).
    if head_expression.startswith("SET "):
        head_expression = "SET #owner = :owner, " + head_expression.removeprefix("SET ")
    else:
        head_expression = "SET #owner = :owner " + head_expression
    head: dict[str, Any] = {
        "TableName": table,
        "Key": head_key(book.id),
        "UpdateExpression": head_expression,
        "ConditionExpression": "attribute_exists(book_id) AND attribute_not_exists(deleting)",
        "ExpressionAttributeNames": {**head_names, "#owner": "owner"},
        "ExpressionAttributeValues": serialize({**head_values, ":owner": book.owner}),
    }
    book_item: dict[str, Any] = {
        "TableName": table,
        "Key": book_key(book.id),
        "UpdateExpression": update,
        "ConditionExpression": "attribute_exists(book_id) AND version = :expected",
        "ExpressionAttributeValues": book_values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if names:
        book_item["ExpressionAttributeNames"] = names
    try:
        calls.transact([{"Update": book_item}, {"Update": head}])
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
