"""Chapters' records: listed, read, changed and deleted (their audio: books/services/uploads.py)."""

from __future__ import annotations

from typing import Any

from books.domain import Chapter, ChapterStatus, Page, utcnow
from books.errors import BookNotFound, ChapterNotFound, VersionConflict
from books.permissions import DELETE_CHAPTER, user_can_see_chapter, user_sees_every_chapter
from books.repository import get_repository
from books.services.books import book_get, book_get_for_change, book_get_for_delete
from books.services.objects import objects_delete
from voj.item_reads import CheckAlongside


def chapter_list(
    *, user: Any, book_id: str, limit: int, cursor: str | None = None
) -> Page[Chapter]:
    """The chapters ``user`` may see, in order: all of them for the book's owner and staff,
    the ready ones for everyone else. BookNotFound if ``user`` may not see the book."""
    book = book_get(user=user, book_id=book_id)
    return get_repository().chapter_list(
        book_id, limit=limit, cursor=cursor, ready_only=not user_sees_every_chapter(user, book)
    )


def chapter_get(*, user: Any, book_id: str, chapter_id: str) -> Chapter:
    book = book_get(user=user, book_id=book_id)
    chapter = get_repository().chapter_get(book_id, chapter_id)
    if not user_can_see_chapter(user, book, chapter):
        raise ChapterNotFound()
    return chapter


def chapter_find(*, user: Any, chapter_id: str) -> Chapter:
    """A chapter known by its id alone (the listener's stream link, the console), if ``user``
    may see it: ChapterNotFound otherwise, whether the chapter, its book or the right to see
    them is missing. Visibility needs only the book's owner and status (``book_access``: on
    DynamoDB its small head, not the book item)."""
    repository = get_repository()
    chapter = repository.chapter_find(chapter_id)
    try:
        access = repository.book_access(chapter.book_id)
    except BookNotFound:
        raise ChapterNotFound() from None
    if not user_can_see_chapter(user, access, chapter):
        raise ChapterNotFound()
    return chapter


def chapter_find_in_book(
    *, user: Any, book_id: str, chapter_id: str, account_check: CheckAlongside | None = None
) -> Chapter:
    """``chapter_find`` for a caller that names the chapter's book too (a listener's player
    holds both): the book's head, read consistently, and the chapter in one read, where the
    chapter alone takes the by-id index first. ChapterNotFound as ``chapter_find`` says, and for
    a chapter of another book. ``account_check``'s record is read in the same request where it
    can be, and checked before anything about the book is told."""
    along = account_check.alongside() if account_check is not None else None
    try:
        access, chapter = get_repository().book_access_with_chapter(
            book_id, chapter_id, consistent_access=True, along=along
        )
    except BookNotFound:
        access, chapter = None, None
    if account_check is not None:
        account_check.verify()
    if access is None or chapter is None or not user_can_see_chapter(user, access, chapter):
        raise ChapterNotFound()
    return chapter


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
    book_get_for_delete(user=user, book_id=book_id, permission=DELETE_CHAPTER)
    chapter = get_repository().chapter_get(book_id, chapter_id)
    get_repository().chapter_delete(chapter)
    objects_delete(keys=[chapter.object_key])
