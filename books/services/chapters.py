"""Chapters' records: listed, read, changed and deleted (their audio: books/services/uploads.py)."""

from __future__ import annotations

from typing import Any

from books.domain import Chapter, ChapterStatus, Page, utcnow
from books.errors import VersionConflict
from books.repository import get_repository
from books.services.books import book_get_for_change
from books.services.objects import objects_delete


def chapter_list(*, book_id: str, limit: int, cursor: str | None = None) -> Page[Chapter]:
    repository = get_repository()
    page = repository.chapter_list(book_id, limit=limit, cursor=cursor)
    if not page.items:
        # An empty first page may mean no such book: 404 rather than an empty list. A book
        # with chapters costs one request.
        repository.book_get(book_id)
    return page


def chapter_get(*, book_id: str, chapter_id: str) -> Chapter:
    return get_repository().chapter_get(book_id, chapter_id)


def chapter_find(*, chapter_id: str) -> Chapter:
    """A chapter known by its id alone (the listener's link, the console)."""
    return get_repository().chapter_find(chapter_id)


def chapters_by_status(
    *, status: ChapterStatus, limit: int, cursor: str | None = None
) -> Page[Chapter]:
    return get_repository().chapters_by_status(status, limit=limit, cursor=cursor)


def chapter_get_for_change(*, user: Any, book_id: str, chapter_id: str) -> Chapter:
    """The chapter, if ``user`` may change its book."""
    # Both from the table, consistently: a write never starts from an index that may lag.
    book_get_for_change(user=user, book_id=book_id)
    return get_repository().chapter_get(book_id, chapter_id)


def chapter_update(
    *,
    user: Any,
    book_id: str,
    chapter_id: str,
    version: int | None = None,
    title: str | None = None,
    number: int | None = None,
) -> Chapter:
    chapter = chapter_get_for_change(user=user, book_id=book_id, chapter_id=chapter_id)
    if version is not None and version != chapter.version:
        raise VersionConflict()
    changes: dict[str, Any] = {"updated_at": utcnow()}
    if title is not None:
        changes["title"] = title
    if number is not None:
        changes["number"] = number
    return get_repository().chapter_update(chapter.replace(**changes), previous=chapter)


def chapter_delete(*, user: Any, book_id: str, chapter_id: str) -> None:
    chapter = chapter_get_for_change(user=user, book_id=book_id, chapter_id=chapter_id)
    get_repository().chapter_delete(chapter)
    objects_delete(keys=[chapter.object_key])
