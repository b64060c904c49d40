"""Many books by id in one read, for lists of things that name books (a listener's shelf and
bookmarks). A book with one of its chapters, for a progress report, is access.py's."""

from __future__ import annotations

from books.domain import Book
from books.repository.tables import BOOK_ITEM, HEAD_ITEM

from .calls import Calls
from .items import book_key, head_key, item_to_book


def books_by_id(calls: Calls, table: str, book_ids: list[str]) -> dict[str, Book]:
    """Each book with its head (its chapter count), as ``book_get`` reads them: BatchGetItem,
    100 keys (50 books) a request, the keys DynamoDB leaves unprocessed sent again (Calls).
    Eventually consistent, which lists may be; no write path starts from it."""
    keys = [
        key for book_id in dict.fromkeys(book_ids) for key in (book_key(book_id), head_key(book_id))
    ]
    items = {(i["book_id"]["S"], i["sk"]["S"]): i for i in calls.batch_get(table, keys)}
    return {
        book_id: item_to_book(item, head=items.get((book_id, HEAD_ITEM)))
        for (book_id, sort_key), item in items.items()
        if sort_key == BOOK_ITEM
    }
