"""The repository contract: one interface over the domain types, two backends."""

from __future__ import annotations

from typing import Protocol

from books.domain import Book, BookAccess, BookVisibility, Chapter, ChapterStatus, Page
from voj.item_reads import ItemRead


class Repository(Protocol):
    """Persistence for books and chapters. Implementations raise the errors in books.errors.

    Writes are conditional: the version the caller read (``expected_version``, or the
    ``previous`` chapter) must still be the stored one or ``VersionConflict`` is raised, so no
    update is ever lost.
    """

    def book_create(self, book: Book) -> Book: ...

    def book_get(self, book_id: str) -> Book: ...

    def book_access(self, book_id: str) -> BookAccess:
        """Who may see the book: its owner and status, for the listener's stream link. On
        DynamoDB one read of the book's small head (strongly consistent), not of the book item
        and its description. Raises BookNotFound (also for a book being deleted)."""
        ...

    def book_access_with_chapter(
        self,
        book_id: str,
        chapter_id: str,
        *,
        consistent_access: bool = False,
        along: ItemRead | None = None,
    ) -> tuple[BookAccess, Chapter | None]:
        """``book_access`` and the book's chapter ``chapter_id`` (None if the book has no such
        chapter) in one read: the listener's progress report, sent every 15 to 30 seconds of
        listening, and the stream link of a chapter named with its book. On DynamoDB one
        BatchGetItem of the head and the chapter, eventually consistent (dynamodb/access.py
        says why that is enough for a report), the head strongly consistent with
        ``consistent_access`` (a stream link is refused as soon as the book is unpublished).
        ``along``, an item of another DynamoDB table (the token's account record), is read in
        the same request where the backend is DynamoDB, and left unread otherwise
        (voj/item_reads.py). Raises BookNotFound."""
        ...

    def book_get_many(self, book_ids: list[str]) -> dict[str, Book]:
        """The books among ``book_ids`` that exist, by id; the others are left out. For lists
        of things that name books (a listener's shelf): one query, or on DynamoDB one batched
        read per 50 books, instead of a read per book."""
        ...

    def book_list(
        self, *, limit: int, visible: BookVisibility, cursor: str | None = None
    ) -> Page[Book]:
        """The books ``visible`` allows, newest first (by creation). On DynamoDB a listener's
        page is one Query of an index of published books, never a filter over the catalogue."""
        ...

    def book_search(
        self, *, query: str, visible: BookVisibility, limit: int, cursor: str | None = None
    ) -> Page[Book]:
        """The books ``visible`` allows that match ``query`` (books/search_text.py: every word
        in the title or the author), those whose title holds the query's key term first, then
        newest first. A query without a word matches nothing; a cursor of another query or of a
        listing raises InvalidCursor. On DynamoDB no request reads the whole catalogue."""
        ...

    def book_update(
        self, book: Book, *, expected_version: int, previous: Book | None = None
    ) -> Book:
        """Store title, author, description and language; return the book at its new version.
        ``previous``, the book as the caller read it at ``expected_version``, saves DynamoDB
        reading it again for the search terms it had (read if absent or at another version)."""
        ...

    def book_set_status(self, book: Book, *, expected_version: int) -> Book:
        """Store the book's ``status`` and ``published_at`` (and ``updated_at``) if it is still
        at ``expected_version``; return it at its new version."""
        ...

    def book_set_cover(self, book: Book, *, expected_version: int) -> Book:
        """Store the book's ``cover_key`` and ``cover_upload_key`` (and ``updated_at``) if it is
        still at ``expected_version``; return it at its new version. On DynamoDB the cover key
        is in the head too, which every list reads (consistently for listeners), so a list
        never names a cover already replaced and deleted."""
        ...

    def book_delete(self, book_id: str) -> list[Chapter]:
        """Delete the book and all its chapters; return the chapters that were deleted.

        Never leaves a chapter without its book: if it fails part-way, calling it again
        finishes the delete."""
        ...

    def chapter_create(self, chapter: Chapter) -> Chapter:
        """Raises ChapterNumberTaken if the book already has that number, BookNotFound if the
        book is gone."""
        ...

    def chapter_get(self, book_id: str, chapter_id: str) -> Chapter:
        """The chapter as stored now (a strongly consistent read): what every write path reads
        before it writes."""
        ...

    def chapter_find(self, chapter_id: str) -> Chapter:
        """The chapter by its id alone, for readers that do not know its book (the listener's
        stream-url, the operator console). On DynamoDB this reads an eventually consistent
        index, so no write path may start from it."""
        ...

    def chapter_list(
        self, book_id: str, *, limit: int, cursor: str | None = None, ready_only: bool = False
    ) -> Page[Chapter]:
        """In chapter-number order; with ``ready_only``, the ready chapters alone (a listener's
        list). A filtered page may hold fewer than ``limit`` chapters and still have a next."""
        ...

    def chapter_last_number(self, book_id: str) -> int:
        """The highest chapter number in the book, 0 when it has none."""
        ...

    def chapter_update(self, chapter: Chapter, *, previous: Chapter) -> Chapter:
        """Store every field of ``chapter`` (number included) over ``previous``, the chapter as
        the caller read it; return it at its new version. Passing what was read saves a second
        read: its number locates the stored item, its version guards the write."""
        ...

    def chapter_delete(self, chapter: Chapter) -> None:
        """Delete the chapter if it is still as read (its number and version)."""
        ...

    def chapters_by_status(
        self, status: ChapterStatus, *, limit: int, cursor: str | None = None
    ) -> Page[Chapter]:
        """Chapters of every book in one status, most recently updated first."""
        ...

    def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...
