"""Search terms for the books written before search existed: an operator's pass.

Books created or edited by the code before search have no term items (search.py), so no
search finds them. ``backfill_search`` scans the books table (no API path ever does; it runs
from ``manage.py backfill_search`` in a release, and again is harmless) and gives each book
its terms, at the book's version, unless its first term item is already there at that version:
the new code writes every term before the book, so that one item stands for all of them, and a
pass over a catalogue already done costs one small read a book. A term item at another version
is rewritten: an edit that failed after its terms (they are ahead of the book) is repaired.

A race with an edit can leave term items whose copy of the book's words is the version before
the edit: a search checks every candidate against the book, so nothing wrong is shown, but a
query of several words, which filters on that copy, may miss the book until the next pass
(every release runs two) or edit. It also removes the ``search_text`` attribute the console's
old search kept on book items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from books.repository.tables import BOOK_ITEM

from .calls import Calls, ConditionFailed
from .items import book_key, item_to_book
from .search import term_keys, write_terms

# What item_to_book needs, and the old attribute to drop; never the 15 KB description.
_NAMES = {
    f"#{name}": name
    for name in (
        "book_id",
        "sk",
        "title",
        "author",
        "owner",
        "created_at",
        "updated_at",
        "version",
        "status",
        "search_text",
    )
}


@dataclass
class SearchBackfill:
    written: int = 0
    # Already had their terms: nothing written.
    unchanged: int = 0
    # The old search_text attribute removed.
    cleaned: int = 0


def backfill_search(calls: Calls, *, books_table: str) -> SearchBackfill:
    counts = SearchBackfill()
    request: dict[str, Any] = {
        "TableName": books_table,
        "FilterExpression": "#sk = :book",
        "ProjectionExpression": ", ".join(_NAMES),
        "ExpressionAttributeNames": _NAMES,
        "ExpressionAttributeValues": {":book": {"S": BOOK_ITEM}},
        "ConsistentRead": True,
    }
    while True:
        response = calls.call("scan", **request)
        for item in response.get("Items", []):
            _backfill(calls, books_table, item, counts)
        if "LastEvaluatedKey" not in response:
            return counts
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _backfill(calls: Calls, table: str, item: dict[str, Any], counts: SearchBackfill) -> None:
    book = item_to_book(item, head=None)
    keys = term_keys(book)
    if keys:
        partition, sort_key = min(keys)
        first = calls.call(
            "get_item",
            TableName=table,
            Key={"book_id": {"S": partition}, "sk": {"S": sort_key}},
            ConsistentRead=True,
        ).get("Item")
        if first is not None and int(first["version"]["N"]) == book.version:
            counts.unchanged += 1
        else:
            write_terms(calls, table, book)
            counts.written += 1
    if "search_text" in item:
        try:
            calls.call(
                "update_item",
                TableName=table,
                Key=book_key(book.id),
                UpdateExpression="REMOVE search_text",
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(book.version)}},
            )
            counts.cleaned += 1
        except ConditionFailed:
            pass  # edited meanwhile: the edit removed it
