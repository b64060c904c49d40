"""Paginated reads. A Query returns at most 1 MB, whatever its ``Limit``: a page of maximal
books (5,000-character Korean descriptions, about 15 KB each) holds fewer than 70. So a page is
read until it has ``limit`` items or the data ends, and it carries a cursor whenever more may
follow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from books.domain import Page
from books.errors import InvalidCursor
from books.repository.cursor import decode_cursor, encode_cursor

from .calls import Calls

Item = dict[str, Any]


def start_key(kind: str, cursor: str | None, names: tuple[str, ...]) -> Item | None:
    """The ``ExclusiveStartKey`` a cursor stands for (signed: see books/repository/cursor.py)."""
    if not cursor:
        return None
    key = decode_cursor(kind, cursor).get("key")
    if not isinstance(key, dict) or set(key) != set(names):
        raise InvalidCursor()
    return key


def query_page(
    calls: Calls,
    params: dict[str, Any],
    *,
    kind: str,
    names: tuple[str, ...],
    limit: int,
    cursor: str | None,
    max_requests: int | None = None,
    dense: bool = False,
) -> tuple[list[Item], str | None]:
    """Up to ``limit`` items of the Query ``params`` and the cursor of the next page (None when
    the data has ended). ``names`` are the key attributes of the table or index queried: a
    cursor points just after the last item returned.

    One more item than asked is read, so a page that ends exactly with the data says so. A
    filtered Query (``max_requests``) may read far for few matches; it stops after that many
    requests and returns the position reached as the cursor. Where most items match
    (``dense``), each request still asks only for as many items as the page lacks.
    """
    items: list[Item] = []
    start = start_key(kind, cursor, names)
    requests = 0
    while True:
        request = dict(params)
        if max_requests is None or dense:
            request["Limit"] = limit + 1 - len(items)
        # else no Limit: DynamoDB applies it before the filter, so a sparsely matching page
        # would read only as many items as it still wants matches; each request reads up to
        # 1 MB instead.
        if start:
            request["ExclusiveStartKey"] = start
        response = calls.call("query", **request)
        requests += 1
        items += response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        if len(items) > limit:
            items = items[:limit]
            last = items[-1]
            return items, _encode(kind, {name: last[name] for name in names})
        if not start:
            return items, None
        if max_requests is not None and requests >= max_requests:
            return items, _encode(kind, start)


def query_all(calls: Calls, params: dict[str, Any]) -> list[Item]:
    """Every item of a Query, page after page."""
    items: list[Item] = []
    request = dict(params)
    while True:
        response = calls.call("query", **request)
        items += response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def page_of[T](items: list[Item], cursor: str | None, convert: Callable[[Item], T]) -> Page[T]:
    return Page([convert(item) for item in items], cursor)


def _encode(kind: str, key: Item) -> str:
    return encode_cursor(kind, {"key": key})
