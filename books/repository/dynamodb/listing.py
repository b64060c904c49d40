"""The catalogue's lists of books (indexes: books/repository/tables.py).

- Staff list every book from ``books-by-created``, one Query a page.
- A listener lists the ``PUBLISHED`` partition of ``books-by-visibility``: one Query a page,
  however many drafts exist, for no draft is in that partition.
- An editor sees the published books and their own drafts: the ``PUBLISHED`` partition and their
  ``DRAFTS#<owner>`` partition, both sorted like ``books-by-created``, merged. Two Queries a
  page, each reading at most a page of matches; no other editor's draft is ever read, as a filter
  over the catalogue would.

A visible list's cursor is the sort key of the last book shown: the next page asks each partition
for the books before it (``visible_sk < :after``), so one position serves both partitions.

Chapter counts live in the books' heads (a chapter write never rewrites a listed book): every
page reads them with one BatchGetItem. A visible list reads them consistently and keeps only the
books whose head still shows them to the caller: the index may lag a status change or a delete
by a moment, the head (written in the same transaction as the status) does not, so an
unpublished book leaves a listener's list at once.
"""

from __future__ import annotations

from typing import Any

from books.domain import Book, BookStatus, BookVisibility, Page
from books.errors import InvalidCursor
from books.repository.cursor import decode_cursor, encode_cursor
from books.repository.tables import (
    BOOK_LIST_PARTITION,
    BOOKS_BY_CREATED_INDEX,
    BOOKS_BY_VISIBILITY_INDEX,
    PUBLISHED_PARTITION,
)

from .calls import Calls
from .items import drafts_partition, head_key, item_to_book
from .pages import Item, page_of, query_page

_BOOK_KEYS = ("book_id", "sk", "list_pk", "list_sk")
_VISIBLE_KEYS = ("book_id", "sk", "visible_pk", "visible_sk")
_VISIBLE_KIND = "books:visible"


def book_page(
    calls: Calls, table: str, *, visible: BookVisibility, limit: int, cursor: str | None
) -> Page[Book]:
    if visible.everything:
        return _created_page(calls, table, kind="books", limit=limit, cursor=cursor)
    partitions = [PUBLISHED_PARTITION]
    if visible.drafts_of is not None:
        partitions.append(drafts_partition(visible.drafts_of))
    after = _after(cursor)
    items: list[Item] = []
    more = False
    for partition in partitions:
        found, rest = query_page(
            calls,
            _visible_query(table, partition, after),
            kind=_VISIBLE_KIND,
            names=_VISIBLE_KEYS,
            limit=limit,
            cursor=None,
        )
        items += found
        more = more or rest is not None
    items.sort(key=lambda item: item["visible_sk"]["S"], reverse=True)
    # While the index catches up with a status change, a book can be in both partitions.
    items = list({item["book_id"]["S"]: item for item in items}.values())
    more = more or len(items) > limit
    items = items[:limit]
    next_cursor = None
    if more:
        next_cursor = encode_cursor(_VISIBLE_KIND, {"after": items[-1]["visible_sk"]["S"]})
    return _with_heads(calls, table, items, next_cursor, visible=visible)


def _visible_query(table: str, partition: str, after: str | None) -> dict[str, Any]:
    values = {":pk": {"S": partition}}
    condition = "visible_pk = :pk"
    if after is not None:
        condition += " AND visible_sk < :after"
        values[":after"] = {"S": after}
    return {
        "TableName": table,
        "IndexName": BOOKS_BY_VISIBILITY_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
    }


def _after(cursor: str | None) -> str | None:
    if not cursor:
        return None
    after = decode_cursor(_VISIBLE_KIND, cursor).get("after")
    if not isinstance(after, str):
        raise InvalidCursor()
    return after


def _created_page(
    calls: Calls, table: str, *, kind: str, limit: int, cursor: str | None
) -> Page[Book]:
    params: dict[str, Any] = {
        "TableName": table,
        "IndexName": BOOKS_BY_CREATED_INDEX,
        "KeyConditionExpression": "list_pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": BOOK_LIST_PARTITION}},
        "ScanIndexForward": False,
    }
    items, next_cursor = query_page(
        calls, params, kind=kind, names=_BOOK_KEYS, limit=limit, cursor=cursor
    )
    return _with_heads(calls, table, items, next_cursor)


def _with_heads(
    calls: Calls,
    table: str,
    items: list[Item],
    next_cursor: str | None,
    *,
    visible: BookVisibility | None = None,
) -> Page[Book]:
    keys = [head_key(item["book_id"]["S"]) for item in items]
    heads = {
        head["book_id"]["S"]: head
        for head in calls.batch_get(table, keys, consistent=visible is not None)
    }
    if visible is not None:
        items = [item for item in items if _still_visible(item, heads, visible)]
    return page_of(
        items,
        next_cursor,
        lambda item: item_to_book(item, head=heads.get(item["book_id"]["S"])),
    )


def _still_visible(item: Item, heads: dict[str, Item], visible: BookVisibility) -> bool:
    """Whether the book's head, read consistently, still shows it to the caller (the index item
    may be a moment behind an unpublish or a delete)."""
    head = heads.get(item["book_id"]["S"])
    if head is None or "deleting" in head:
        return False
    status = head.get("status", {}).get("S")
    if status is None:
        # A head written before heads carried the status: the index item is all there is.
        return item.get("visible_pk", {}).get("S") == PUBLISHED_PARTITION or (
            visible.drafts_of is not None
            and item.get("visible_pk", {}).get("S") == drafts_partition(visible.drafts_of)
        )
    if status == BookStatus.PUBLISHED:
        return True
    return visible.drafts_of is not None and int(item["owner"]["N"]) == visible.drafts_of
