"""The contract of what listeners keep: one interface, two backends (SQL on the embedded
default, DynamoDB in production). Implementations raise the errors in listening.errors."""

from __future__ import annotations

from typing import Protocol

from books.domain import Page
from listening.domain import Bookmark, Position, Progress, ProgressWrite


class ListeningRepository(Protocol):
    def progress_record(
        self, *, user_id: int, book_id: str, report: Position, finishes: bool
    ) -> ProgressWrite:
        """Merge one report into the listener's progress in the book, creating it if none.

        ``latest`` becomes ``report`` only if ``report.updated_at`` is newer than the stored
        one (``applied``); ``furthest`` becomes ``report`` if ``report.order`` is greater; when
        ``furthest`` moves to a report that ``finishes`` the book, ``finished`` turns true (it
        never turns back). Safe under concurrent reports from several devices: no report is lost
        to a race. On DynamoDB, one conditional write of at most 1 write unit, or none when the
        report changes nothing."""
        ...

    def progress_get(self, *, user_id: int, book_id: str) -> Progress:
        """Raises ProgressNotFound."""
        ...

    def progress_delete(self, *, user_id: int, book_id: str) -> None:
        """Forget the listener's progress in the book; nothing happens if there is none."""
        ...

    def progress_list(
        self, *, user_id: int, limit: int, cursor: str | None = None
    ) -> Page[Progress]:
        """The listener's progress in every book, newest ``latest.updated_at`` first."""
        ...

    def bookmark_create(self, bookmark: Bookmark, *, per_book_limit: int) -> Bookmark:
        """Raises BookmarkLimitReached when the listener already keeps ``per_book_limit``
        bookmarks in that book (exactly, also under concurrent creates)."""
        ...

    def bookmark_get(self, *, user_id: int, bookmark_id: str) -> Bookmark:
        """Raises BookmarkNotFound, also for another listener's bookmark."""
        ...

    def bookmark_update(self, bookmark: Bookmark, *, expected_version: int) -> Bookmark:
        """Store ``bookmark``'s position and note; return it at its new version. Raises
        BookmarkNotFound if it is gone, VersionConflict if it changed since it was read."""
        ...

    def bookmark_delete(self, *, user_id: int, bookmark_id: str) -> None:
        """Raises BookmarkNotFound."""
        ...

    def bookmark_list(
        self, *, user_id: int, book_id: str | None, limit: int, cursor: str | None = None
    ) -> Page[Bookmark]:
        """With ``book_id``: that book's bookmarks in book order (chapter number, position).
        Without: all the listener's bookmarks, newest ``created_at`` first."""
        ...

    def book_forget(self, *, book_id: str) -> None:
        """Delete every listener's progress and bookmarks in the book (the book is gone).
        Idempotent; if it fails part-way, calling it again finishes it."""
        ...

    def user_forget(self, *, user_id: int) -> None:
        """Delete all the listener's progress and bookmarks (the account is gone). Idempotent."""
        ...
