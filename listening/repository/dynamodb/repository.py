"""The contract of what listeners keep, on DynamoDB (the table: listening/repository/tables.py).

Every write is conditional and every failed condition becomes a domain error. Every access
path is a GetItem or a Query of the listener's item collection; only ``book_forget`` reads an
index across listeners (``by-book``). Nothing here scans the table.
"""

from __future__ import annotations

from typing import Any

from books.domain import Page
from books.errors import InvalidCursor, VersionConflict
from books.repository.cursor import decode_cursor, encode_cursor
from books.repository.dynamodb.calls import Calls, Cancelled, ConditionFailed
from books.repository.dynamodb.pages import page_of, query_all, query_page
from listening.domain import Bookmark, Position, Progress, ProgressWrite
from listening.errors import BookmarkLimitReached, BookmarkNotFound, ProgressNotFound
from listening.repository.tables import (
    BOOKMARKS_BY_CREATED_INDEX,
    BOOKMARKS_IN_BOOK_ORDER_INDEX,
    BY_BOOK_INDEX,
    PROGRESS_PREFIX,
)

from .items import (
    Item,
    bookmark_changes,
    bookmark_key,
    bookmark_to_item,
    counter_key,
    is_counter,
    item_to_bookmark,
    item_to_progress,
    number,
    progress_key,
    user_key,
)
from .progress import record

# Named conditions.
_IS_NEW = "attribute_not_exists(sk)"
_EXISTS = "attribute_exists(sk)"
# Room for one more bookmark in the book (the counter item is created by the first).
_ROOM = "attribute_not_exists(n) OR n < :limit"
# The bookmark is stored at the version the caller read, in the same book.
_AS_READ = "v = :expected AND b = :b"

_IN_BOOK_ORDER_KEYS = ("pk", "sk", "o")
_BY_CREATED_KEYS = ("pk", "sk", "c")


class DynamoDBListeningRepository:
    def __init__(self, *, client: Any, table: str) -> None:
        self.calls = Calls(client)
        self.table = table

    # progress

    def progress_record(
        self, *, user_id: int, book_id: str, report: Position, finishes: bool
    ) -> ProgressWrite:
        return record(
            self.calls,
            self.table,
            user_id=user_id,
            book_id=book_id,
            report=report,
            finishes=finishes,
        )

    def progress_get(self, *, user_id: int, book_id: str) -> Progress:
        item = self.calls.call(
            "get_item",
            TableName=self.table,
            Key=progress_key(user_id, book_id),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            raise ProgressNotFound()
        return item_to_progress(item)

    def progress_delete(self, *, user_id: int, book_id: str) -> None:
        self.calls.call("delete_item", TableName=self.table, Key=progress_key(user_id, book_id))

    def progress_list(
        self, *, user_id: int, limit: int, cursor: str | None = None
    ) -> Page[Progress]:
        # No index orders the shelf (tables.py says why): every progress item, sorted here.
        kind = f"shelf:{user_id}"
        after = _shelf_position(kind, cursor) if cursor else None
        items = query_all(
            self.calls,
            {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :u AND begins_with(sk, :p)",
                "ExpressionAttributeValues": {
                    ":u": user_key(user_id),
                    ":p": {"S": PROGRESS_PREFIX},
                },
                "ConsistentRead": True,
            },
        )
        shelf = sorted((_shelf_order(item) for item in items), key=lambda entry: entry[:2])
        if after is not None:
            shelf = [entry for entry in shelf if entry[:2] > after]
        page = shelf[: limit + 1]
        next_cursor = None
        if len(page) > limit:
            page = page[:limit]
            newest_first_time, book_id, _ = page[-1]
            next_cursor = encode_cursor(kind, {"t": -newest_first_time, "b": book_id})
        return Page([item_to_progress(item) for _, _, item in page], next_cursor)

    # bookmarks

    def bookmark_create(self, bookmark: Bookmark, *, per_book_limit: int) -> Bookmark:
        try:
            self.calls.transact(
                [
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": counter_key(bookmark.user_id, bookmark.book_id),
                            "UpdateExpression": "SET b = :b ADD n :one",
                            "ConditionExpression": _ROOM,
                            "ExpressionAttributeValues": {
                                ":b": {"S": bookmark.book_id},
                                ":one": number(1),
                                ":limit": number(per_book_limit),
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": bookmark_to_item(bookmark),
                            "ConditionExpression": _IS_NEW,
                        }
                    },
                ]
            )
        except Cancelled as cancelled:
            if cancelled.failed(0):
                raise BookmarkLimitReached() from cancelled
            raise VersionConflict("A bookmark with this id already exists.") from cancelled
        return bookmark

    def bookmark_get(self, *, user_id: int, bookmark_id: str) -> Bookmark:
        item = self.calls.call(
            "get_item",
            TableName=self.table,
            Key=bookmark_key(user_id, bookmark_id),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            raise BookmarkNotFound()
        return item_to_bookmark(item)

    def bookmark_update(self, bookmark: Bookmark, *, expected_version: int) -> Bookmark:
        values = bookmark_changes(bookmark)
        values[":expected"] = number(expected_version)
        values[":v"] = number(expected_version + 1)
        values[":b"] = {"S": bookmark.book_id}
        try:
            item = self.calls.call(
                "update_item",
                TableName=self.table,
                Key=bookmark_key(bookmark.user_id, bookmark.id),
                UpdateExpression=(
                    "SET ci = :ci, cn = :cn, cp = :cp, nt = :nt, ua = :ua, o = :o, v = :v"
                ),
                ConditionExpression=_AS_READ,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except ConditionFailed as failed:
            raise (VersionConflict() if failed.item else BookmarkNotFound()) from failed
        return item_to_bookmark(item)

    def bookmark_delete(self, *, user_id: int, bookmark_id: str) -> None:
        # The counter's key needs the bookmark's book: read it first.
        stored = self.bookmark_get(user_id=user_id, bookmark_id=bookmark_id)
        try:
            self.calls.transact(
                [
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": bookmark_key(user_id, bookmark_id),
                            "ConditionExpression": _EXISTS,
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": counter_key(user_id, stored.book_id),
                            "UpdateExpression": "ADD n :minus_one",
                            "ConditionExpression": _EXISTS,
                            "ExpressionAttributeValues": {":minus_one": number(-1)},
                        }
                    },
                ]
            )
        except Cancelled as cancelled:
            # Deleted meanwhile (the bookmark, or the book's whole counter with book_forget).
            raise BookmarkNotFound() from cancelled

    def bookmark_list(
        self, *, user_id: int, book_id: str | None, limit: int, cursor: str | None = None
    ) -> Page[Bookmark]:
        if book_id is None:
            params = {
                "IndexName": BOOKMARKS_BY_CREATED_INDEX,
                "KeyConditionExpression": "pk = :u",
                "ExpressionAttributeValues": {":u": user_key(user_id)},
                "ScanIndexForward": False,
            }
            kind, names = f"bookmarks:{user_id}", _BY_CREATED_KEYS
        else:
            params = {
                "IndexName": BOOKMARKS_IN_BOOK_ORDER_INDEX,
                "KeyConditionExpression": "pk = :u AND begins_with(o, :book)",
                "ExpressionAttributeValues": {
                    ":u": user_key(user_id),
                    ":book": {"S": f"{book_id}#"},
                },
            }
            kind, names = f"bookmarks:{user_id}:{book_id}", _IN_BOOK_ORDER_KEYS
        items, next_cursor = query_page(
            self.calls,
            {"TableName": self.table, "ConsistentRead": True, **params},
            kind=kind,
            names=names,
            limit=limit,
            cursor=cursor,
        )
        return page_of(items, next_cursor, item_to_bookmark)

    # deletions

    def book_forget(self, *, book_id: str) -> None:
        keys = query_all(
            self.calls,
            {
                "TableName": self.table,
                "IndexName": BY_BOOK_INDEX,
                "KeyConditionExpression": "b = :b",
                "ExpressionAttributeValues": {":b": {"S": book_id}},
            },
        )
        self._delete([{"pk": key["pk"], "sk": key["sk"]} for key in keys])

    def user_forget(self, *, user_id: int) -> None:
        keys = query_all(
            self.calls,
            {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :u",
                "ExpressionAttributeValues": {":u": user_key(user_id)},
                "ProjectionExpression": "pk, sk",
                "ConsistentRead": True,
            },
        )
        self._delete(keys)

    def _delete(self, keys: list[Item]) -> None:
        """Bookmarks and progress first, the bookmark counters last: if a forget stops
        part-way, no bookmark is left without its counter (a later delete would count below
        zero), and calling it again finishes it."""
        ordered = sorted(keys, key=is_counter)
        self.calls.batch_write(self.table, [{"DeleteRequest": {"Key": key}} for key in ordered])


def _shelf_order(item: Item) -> tuple[int, str, Item]:
    """Newest latest first, then by book id: sorting these ascending gives the shelf."""
    return (-int(item["lt"]["N"]), item["sk"]["S"].removeprefix(PROGRESS_PREFIX), item)


def _shelf_position(kind: str, cursor: str) -> tuple[int, str]:
    position = decode_cursor(kind, cursor)
    latest, book_id = position.get("t"), position.get("b")
    if not isinstance(latest, int) or not isinstance(book_id, str):
        raise InvalidCursor()
    return (-latest, book_id)
