"""Who may see a book, read from its head: the listener's hot paths (a stream link, a progress
report) decide visibility from the owner and status alone, so they read the book's small head
(one read unit) instead of the book item, charged by its description's size (4 units for 15 KB
read consistently).

A head written before it carried the owner has no copy until ``manage.py backfill_publishing``
(backfill.py) or the book's next status or cover change gives it one; such a head, or a missing
one, falls back to the book item and its head read together (``book_read``): a request more,
the answer of old. A head marked ``deleting`` is a book on its way out: not found, as the lists
already say.
"""

from __future__ import annotations

from typing import Any

from books.domain import BookAccess, Chapter
from books.errors import BookNotFound
from voj.item_reads import ItemRead

from .book_writes import book_read
from .calls import Calls
from .items import chapter_key, head_access, head_key, item_to_chapter


def book_access(calls: Calls, table: str, book_id: str) -> BookAccess:
    """The head, read consistently: a stream link is refused as soon as the book is unpublished
    or deleted. One GetItem of an item under 1 KB."""
    head = calls.call("get_item", TableName=table, Key=head_key(book_id), ConsistentRead=True)
    return _access(calls, table, book_id, head.get("Item"))


def book_access_with_chapter(
    calls: Calls,
    *,
    books_table: str,
    chapters_table: str,
    book_id: str,
    chapter_id: str,
    consistent_access: bool = False,
    along: ItemRead | None = None,
) -> tuple[BookAccess, Chapter | None]:
    """The head and the chapter in one BatchGetItem, eventually consistent: half the units of a
    consistent read, on the path of every progress report (one every 15 to 30 seconds of
    listening). What a stale read can do is harmless: a report a moment after an unpublish or a
    delete is kept as if sent a moment before (the shelf and the lists hide a book the listener
    can no longer see, and a deleted book's leftovers are forgotten when a list meets them:
    listening/services/catalogue.py); a chapter read a moment stale is one whose player already
    holds its stream link, read through an index that lags more, and the next report, seconds
    later, reads it anew. Nothing is written from these reads but the listener's own item.

    ``consistent_access`` reads the head strongly consistent (a stream link, refused as soon as
    the book is unpublished); the chapter stays eventually consistent, fresher than the by-id
    index the chapter-only stream link reads it through.

    ``along`` is an item of another table read in the same request (the token's account
    record: voj/item_reads.py), handed what was found before the head is looked at."""
    request = {
        books_table: {"Keys": [head_key(book_id)], "ConsistentRead": consistent_access},
        chapters_table: {"Keys": [chapter_key(book_id, chapter_id)], "ConsistentRead": False},
    }
    if along is not None:
        if along.table in request:
            raise ValueError(f"{along.table} is read for the book already")
        request[along.table] = {"Keys": [along.key], "ConsistentRead": along.consistent}
    found = calls.batch_get_tables(request)
    if along is not None:
        alongs = found.get(along.table, [])
        along.found(alongs[0] if alongs else None)
    heads = found.get(books_table, [])
    access = _access(calls, books_table, book_id, heads[0] if heads else None)
    chapters = found.get(chapters_table, [])
    return access, item_to_chapter(chapters[0]) if chapters else None


def _access(calls: Calls, table: str, book_id: str, head: dict[str, Any] | None) -> BookAccess:
    if head is not None and "deleting" in head:
        raise BookNotFound()
    access = head_access(head) if head is not None else None
    if access is None:
        # An old head, or none (a book that does not exist): the book item says.
        return book_read(calls, table, book_id).access
    return access
