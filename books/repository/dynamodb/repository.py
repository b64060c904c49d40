"""The repository contract on DynamoDB (keys and indexes: books/repository/tables.py).

Every write is conditional and every failed condition becomes a domain error. Every write path
starts from a strongly consistent read of the table; only ``chapter_find`` (the listener's
stream-url, the console's lookup by id), ``chapters_by_status`` and the lists of books
(``listing``) read a GSI. Nothing here scans a table. The chapter writes, which move the
book's head counts with the chapter, are in chapter_writes.py.
"""

from __future__ import annotations

from typing import Any

from books.domain import Book, BookAccess, BookVisibility, Chapter, ChapterStatus, Page
from books.errors import (
    BookNotFound,
    ChapterNotFound,
    VersionConflict,
)
from books.repository.tables import (
    CHAPTERS_BY_ID_INDEX,
    CHAPTERS_BY_NUMBER_INDEX,
    CHAPTERS_BY_STATUS_INDEX,
    SLOT_PREFIX,
)
from voj.item_reads import ItemRead

from .access import book_access, book_access_with_chapter
from .book_writes import book_read, book_write, cover_write, status_write
from .calls import Calls, Cancelled, ConditionFailed
from .chapter_writes import create_chapter, delete_chapter, update_chapter
from .items import (
    book_key,
    book_to_item,
    chapter_key,
    head_key,
    head_to_item,
    item_to_book,
    item_to_chapter,
    serialize,
    slot_number,
    visibility_keys,
)
from .listing import book_page
from .many import books_by_id
from .pages import page_of, query_all, query_page
from .search import delete_terms, search_page, write_terms

# Named conditions (the chapter writes' own: chapter_writes.py).
_IS_NEW = "attribute_not_exists(book_id)"
_EXISTS = "attribute_exists(book_id)"

_CHAPTER_BY_NUMBER_KEYS = ("book_id", "chapter_id", "number")
_CHAPTER_BY_STATUS_KEYS = ("book_id", "chapter_id", "status", "updated_at")
# A listener's chapter list filters out unready chapters; it stops after this many requests.
_FILTERED_CHAPTER_REQUESTS = 10


class DynamoDBRepository:
    def __init__(self, *, client: Any, books_table: str, chapters_table: str) -> None:
        self.calls = Calls(client)
        self.books_table = books_table
        self.chapters_table = chapters_table

    # books

    def book_create(self, book: Book) -> Book:
        # Its search terms first: one without its book is dropped by every search.
        write_terms(self.calls, self.books_table, book)
        try:
            self.calls.transact(
                [
                    self._put(self.books_table, book_to_item(book), _IS_NEW),
                    self._put(self.books_table, head_to_item(book), _IS_NEW),
                ]
            )
        except Cancelled as cancelled:
            raise VersionConflict("A book with this id already exists.") from cancelled
        return book

    def book_get(self, book_id: str) -> Book:
        return book_read(self.calls, self.books_table, book_id)

    def book_list(
        self, *, limit: int, visible: BookVisibility, cursor: str | None = None
    ) -> Page[Book]:
        return book_page(self.calls, self.books_table, visible=visible, limit=limit, cursor=cursor)

    def book_search(
        self, *, query: str, visible: BookVisibility, limit: int, cursor: str | None = None
    ) -> Page[Book]:
        return search_page(
            self.calls, self.books_table, query=query, visible=visible, limit=limit, cursor=cursor
        )

    def book_update(
        self, book: Book, *, expected_version: int, previous: Book | None = None
    ) -> Book:
        """The new search terms, then the book, then the old terms' delete (search.py)."""
        before = previous
        if before is None or before.version != expected_version:
            before = self._stored_book(book.id)
        if before.version != expected_version:
            raise VersionConflict()
        write_terms(self.calls, self.books_table, book.replace(version=expected_version + 1))
        stored = book_write(
            self.calls,
            self.books_table,
            book.id,
            "SET title = :title, author = :author, description = :description, "
            "#language = :language, updated_at = :updated_at, version = :next "
            # What searches read before the term items (search.py); nothing reads it now.
            "REMOVE search_text",
            {"#language": "language"},
            {
                ":title": book.title,
                ":author": book.author,
                ":description": book.description,
                ":language": book.language,
                ":updated_at": book.updated_at.isoformat(),
            },
            expected_version=expected_version,
        )
        delete_terms(self.calls, self.books_table, before, stored)
        return stored

    def _stored_book(self, book_id: str) -> Book:
        item = self.calls.call(
            "get_item", TableName=self.books_table, Key=book_key(book_id), ConsistentRead=True
        ).get("Item")
        if not item:
            raise BookNotFound()
        return item_to_book(item, head=None)

    def book_set_status(self, book: Book, *, expected_version: int) -> Book:
        # The index keys move with the status: a published book leaves its owner's drafts
        # partition of books-by-visibility for the published one, and back. The head takes the
        # status in the same transaction (items.head_to_item says why).
        keys = visibility_keys(book)
        values: dict[str, Any] = {
            ":status": str(book.status),
            ":updated_at": book.updated_at.isoformat(),
            ":visible_pk": keys["visible_pk"],
            ":visible_sk": keys["visible_sk"],
        }
        update = (
            "SET #status = :status, updated_at = :updated_at, version = :next, "
            "visible_pk = :visible_pk, visible_sk = :visible_sk"
        )
        if book.published_at is None:
            update += " REMOVE published_at"
        else:
            update += ", published_at = :published_at"
            values[":published_at"] = book.published_at.isoformat()
        return status_write(
            self.calls,
            self.books_table,
            book,
            update,
            {"#status": "status"},
            values,
            expected_version=expected_version,
        )

    def book_set_cover(self, book: Book, *, expected_version: int) -> Book:
        return cover_write(self.calls, self.books_table, book, expected_version=expected_version)

    def book_delete(self, book_id: str) -> list[Chapter]:
        """Mark the book deleting, delete its chapters and slots, then the book and its head.

        From the mark on, no chapter can be added or moved (their transactions check the head),
        and the consistent reads below see every chapter committed before it. A delete that
        fails part-way leaves the book, its head marked and the chapters not yet deleted; the
        next delete starts again from the mark and finishes. Returns the chapters this call
        deleted.
        """
        try:
            self.calls.call(
                "update_item",
                TableName=self.books_table,
                Key=head_key(book_id),
                UpdateExpression="SET deleting = :yes",
                ConditionExpression=_EXISTS,
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )
        except ConditionFailed as failed:
            raise BookNotFound() from failed
        # Its search terms go while the book still names them: a retry finds them again.
        delete_terms(self.calls, self.books_table, self._stored_book(book_id), None)
        chapters = [
            item_to_chapter(item)
            for item in query_all(
                self.calls,
                {
                    "TableName": self.chapters_table,
                    "KeyConditionExpression": "book_id = :b",
                    "ExpressionAttributeValues": {":b": {"S": book_id}},
                    "ConsistentRead": True,
                },
            )
        ]
        slots = query_all(
            self.calls,
            {
                "TableName": self.books_table,
                "KeyConditionExpression": "book_id = :b AND begins_with(sk, :slot)",
                "ExpressionAttributeValues": serialize({":b": book_id, ":slot": SLOT_PREFIX}),
                "ProjectionExpression": "book_id, sk",
                "ConsistentRead": True,
            },
        )
        self.calls.batch_write(
            self.chapters_table,
            [{"DeleteRequest": {"Key": chapter_key(c.book_id, c.id)}} for c in chapters],
        )
        self.calls.batch_write(
            self.books_table, [{"DeleteRequest": {"Key": slot}} for slot in slots]
        )
        # Last, the book and the head that locked it, together.
        self.calls.transact(
            [
                {"Delete": {"TableName": self.books_table, "Key": book_key(book_id)}},
                {"Delete": {"TableName": self.books_table, "Key": head_key(book_id)}},
            ]
        )
        return chapters

    # chapters

    def chapter_create(self, chapter: Chapter) -> Chapter:
        create_chapter(self.calls, self.books_table, self.chapters_table, chapter)
        return chapter

    def chapter_get(self, book_id: str, chapter_id: str) -> Chapter:
        item = self.calls.call(
            "get_item",
            TableName=self.chapters_table,
            Key=chapter_key(book_id, chapter_id),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            raise ChapterNotFound()
        return item_to_chapter(item)

    def chapter_find(self, chapter_id: str) -> Chapter:
        items = self.calls.call(
            "query",
            TableName=self.chapters_table,
            IndexName=CHAPTERS_BY_ID_INDEX,
            KeyConditionExpression="chapter_id = :id",
            ExpressionAttributeValues={":id": {"S": chapter_id}},
            Limit=1,
        ).get("Items", [])
        if not items:
            raise ChapterNotFound()
        return item_to_chapter(items[0])

    def chapter_list(
        self, book_id: str, *, limit: int, cursor: str | None = None, ready_only: bool = False
    ) -> Page[Chapter]:
        params: dict[str, Any] = {
            "TableName": self.chapters_table,
            "IndexName": CHAPTERS_BY_NUMBER_INDEX,
            "KeyConditionExpression": "book_id = :b",
            "ExpressionAttributeValues": {":b": {"S": book_id}},
            "ConsistentRead": True,
        }
        if ready_only:
            params["FilterExpression"] = "#s = :ready"
            params["ExpressionAttributeNames"] = {"#s": "status"}
            params["ExpressionAttributeValues"][":ready"] = {"S": str(ChapterStatus.READY)}
        items, next_cursor = query_page(
            self.calls,
            params,
            kind=f"chapters:{book_id}",
            names=_CHAPTER_BY_NUMBER_KEYS,
            limit=limit,
            cursor=cursor,
            # A listened book's chapters are nearly all ready: each request asks for what the
            # page still lacks, and a run of unready ones costs a few more requests, bounded.
            max_requests=_FILTERED_CHAPTER_REQUESTS if ready_only else None,
            dense=True,
        )
        return page_of(items, next_cursor, item_to_chapter)

    def chapter_last_number(self, book_id: str) -> int:
        items = self.calls.call(
            "query",
            TableName=self.books_table,
            KeyConditionExpression="book_id = :b AND begins_with(sk, :slot)",
            ExpressionAttributeValues=serialize({":b": book_id, ":slot": SLOT_PREFIX}),
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        ).get("Items", [])
        return slot_number(items[0]) if items else 0

    def chapter_update(self, chapter: Chapter, *, previous: Chapter) -> Chapter:
        stored = chapter.replace(version=previous.version + 1)
        update_chapter(self.calls, self.books_table, self.chapters_table, stored, previous=previous)
        return stored

    def chapter_delete(self, chapter: Chapter) -> None:
        delete_chapter(self.calls, self.books_table, self.chapters_table, chapter)

    def chapters_by_status(
        self, status: ChapterStatus, *, limit: int, cursor: str | None = None
    ) -> Page[Chapter]:
        items, next_cursor = query_page(
            self.calls,
            {
                "TableName": self.chapters_table,
                "IndexName": CHAPTERS_BY_STATUS_INDEX,
                "KeyConditionExpression": "#s = :s",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":s": {"S": str(status)}},
                "ScanIndexForward": False,
            },
            kind=f"status:{status}",
            names=_CHAPTER_BY_STATUS_KEYS,
            limit=limit,
            cursor=cursor,
        )
        return page_of(items, next_cursor, item_to_chapter)

    def ping(self) -> None:
        self.calls.call("get_item", TableName=self.books_table, Key=head_key("__health__"))
        self.calls.call(
            "get_item", TableName=self.chapters_table, Key=chapter_key("__health__", "-")
        )

    def book_get_many(self, book_ids: list[str]) -> dict[str, Book]:
        return books_by_id(self.calls, self.books_table, book_ids)

    def book_access(self, book_id: str) -> BookAccess:
        return book_access(self.calls, self.books_table, book_id)

    def book_access_with_chapter(
        self,
        book_id: str,
        chapter_id: str,
        *,
        consistent_access: bool = False,
        along: ItemRead | None = None,
    ) -> tuple[BookAccess, Chapter | None]:
        return book_access_with_chapter(
            self.calls,
            books_table=self.books_table,
            chapters_table=self.chapters_table,
            book_id=book_id,
            chapter_id=chapter_id,
            consistent_access=consistent_access,
            along=along,
        )

    @staticmethod
    def _put(table: str, item: dict[str, Any], condition: str) -> dict[str, Any]:
        return {"Put": {"TableName": table, "Item": item, "ConditionExpression": condition}}
