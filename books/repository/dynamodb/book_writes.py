"""The book item's conditional updates (edits and status changes), shared by the repository."""

from __future__ import annotations

from typing import Any

from books.domain import Book
from books.errors import BookNotFound, VersionConflict

from .calls import Calls, ConditionFailed
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
