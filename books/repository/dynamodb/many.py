"""Reads of several items at once: many books by id, for lists of things that name books (a
listener's shelf and bookmarks), and a book with one of its chapters, for a progress report."""

from __future__ import annotations

from books.domain import Book, Chapter
from books.errors import BookNotFound
from books.repository.tables import BOOK_ITEM, HEAD_ITEM

from .calls import Calls
from .items import book_key, chapter_key, head_key, item_to_book, item_to_chapter


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


def book_with_chapter(
    calls: Calls, *, books_table: str, chapters_table: str, book_id: str, chapter_id: str
) -> tuple[Book, Chapter | None]:
    """The book (with its head) and its chapter, in one consistent BatchGetItem: what
    ``book_get`` and ``chapter_get`` read, in one request instead of two."""
    found = calls.batch_get_tables(
        {
            books_table: {
                "Keys": [book_key(book_id), head_key(book_id)],
                "ConsistentRead": True,
            },
            chapters_table: {"Keys": [chapter_key(book_id, chapter_id)], "ConsistentRead": True},
        }
    )
    items = {i["sk"]["S"]: i for i in found.get(books_table, [])}
    if BOOK_ITEM not in items:
        raise BookNotFound()
    book = item_to_book(items[BOOK_ITEM], head=items.get(HEAD_ITEM))
    chapters = found.get(chapters_table, [])
    return book, item_to_chapter(chapters[0]) if chapters else None
