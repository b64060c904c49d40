"""Books: created, changed and published by editors (their owner or staff), read by whoever may
see them (books/permissions.py), and searched by title and author."""

from __future__ import annotations

import logging
from typing import Any

from books.domain import Book, BookAccess, BookStatus, Chapter, Page, utcnow
from books.errors import BookNotFound, NothingToPublish, PermissionDenied, VersionConflict
from books.permissions import (
    DELETE_BOOK,
    book_visibility,
    user_can_change_book,
    user_can_delete,
    user_can_see_book,
    user_is_editor,
    user_owns_book,
    user_sees_every_chapter,
)
from books.repository import get_repository
from books.services.objects import objects_delete
from books.signals import book_deleted
from voj.item_reads import CheckAlongside

logger = logging.getLogger("voj.books")


def book_create(
    *, user: Any, title: str, author: str, description: str = "", language: str = ""
) -> Book:
    if not user_is_editor(user):
        raise PermissionDenied("Only editors and staff can create books.")
    book = Book(
        title=title, author=author, description=description, language=language, owner=user.pk
    )
    return get_repository().book_create(book)


def as_seen_by(user: Any, book: Book, *, staff: bool | None = None) -> Book:
    """The book as ``user`` may see it: its ``chapter_count`` counts the chapters they see, all
    of them for the owner and staff, the ready ones for everyone else (a count of hidden
    chapters would tell a listener they exist). ``staff``, when the caller knows it, saves the
    account's read; a book whose chapters are all ready needs no check at all."""
    if book.ready_count == book.chapter_count:
        return book
    if staff is None:
        sees_all = user_sees_every_chapter(user, book)
    else:
        sees_all = staff or user_owns_book(user, book)
    # A DynamoDB head written before heads counted ready chapters reads 0 until the backfill
    # counts them (books/repository/dynamodb/backfill.py): hidden rather than exposed.
    return book if sees_all else book.replace(chapter_count=book.ready_count)


def book_get(*, user: Any, book_id: str) -> Book:
    """The book, if ``user`` may see it; BookNotFound otherwise, as if it did not exist."""
    book = get_repository().book_get(book_id)
    if not user_can_see_book(user, book):
        raise BookNotFound()
    return as_seen_by(user, book)


def book_access_with_chapter(
    *, user: Any, book_id: str, chapter_id: str, account_check: CheckAlongside | None = None
) -> tuple[BookAccess, Chapter | None]:
    """Who may see the book, if ``user`` may (BookNotFound otherwise), and its chapter
    ``chapter_id`` whatever its status (None if the book has none): one read, for the
    listener's reports, which name the book and need nothing else of it. ``account_check``'s
    record is read in the same request where it can be, and checked before anything about the
    book is told."""
    along = account_check.alongside() if account_check is not None else None
    try:
        access, chapter = get_repository().book_access_with_chapter(
            book_id, chapter_id, along=along
        )
    except BookNotFound:
        if account_check is not None:
            account_check.verify()
        raise
    if account_check is not None:
        account_check.verify()
    if not user_can_see_book(user, access):
        raise BookNotFound()
    return access, chapter


def book_list(*, user: Any, limit: int, cursor: str | None = None) -> Page[Book]:
    """The books ``user`` may see, newest first."""
    visible = book_visibility(user)
    page = get_repository().book_list(limit=limit, cursor=cursor, visible=visible)
    # Staff see every book and every chapter: the visibility just read says who is staff.
    seen = [as_seen_by(user, book, staff=visible.everything) for book in page.items]
    return Page(seen, page.next_cursor)


def book_search(*, user: Any, query: str, limit: int, cursor: str | None = None) -> Page[Book]:
    """The books ``user`` may see (as ``book_list``) whose title or author matches ``query``
    (books/search_text.py), title matches first, then newest first."""
    visible = book_visibility(user)
    page = get_repository().book_search(query=query, visible=visible, limit=limit, cursor=cursor)
    seen = [as_seen_by(user, book, staff=visible.everything) for book in page.items]
    return Page(seen, page.next_cursor)


def book_get_for_change(*, user: Any, book_id: str) -> Book:
    """The book, if ``user`` may change it and what is in it: PermissionDenied for one who may
    only see it, BookNotFound for one who may not even see it (a draft tells nobody else it
    exists)."""
    book = get_repository().book_get(book_id)
    if not user_can_change_book(user, book):
        if not user_can_see_book(user, book):
            raise BookNotFound()
        raise PermissionDenied("Only the book's owner or staff can change it.")
    return book


def book_publish(*, user: Any, book_id: str) -> Book:
    """Listeners see the book from now on. It needs a ready chapter (NothingToPublish); one
    already published is returned as it is, its publication time kept."""
    book = book_get_for_change(user=user, book_id=book_id)
    if book.is_published:
        return book
    if not _has_ready_chapter(book_id):
        raise NothingToPublish()
    # A chapter deleted between this check and the write leaves a published book with nothing
    # ready: the state a delete right after the publish would leave too, and a listener then
    # sees an empty book, never a chapter that is not ready.
    now = utcnow()
    published = book.replace(status=BookStatus.PUBLISHED, published_at=now, updated_at=now)
    return get_repository().book_set_status(published, expected_version=book.version)


def book_unpublish(*, user: Any, book_id: str) -> Book:
    """Back to a draft: hidden from listeners at once (every read checks the status)."""
    book = book_get_for_change(user=user, book_id=book_id)
    if not book.is_published:
        return book
    draft = book.replace(status=BookStatus.DRAFT, published_at=None, updated_at=utcnow())
    return get_repository().book_set_status(draft, expected_version=book.version)


def _has_ready_chapter(book_id: str) -> bool:
    repository = get_repository()
    cursor = None
    while True:
        # A page of 100, not 1: a page reads one item more than it returns to know whether
        # more follow, so a page of 1 could cost a second request for a book of two chapters.
        # A publish is rare; 100 small chapter items are one request.
        page = repository.chapter_list(book_id, limit=100, cursor=cursor, ready_only=True)
        if page.items:
            return True
        cursor = page.next_cursor
        if cursor is None:
            return False


def book_update(*, user: Any, book_id: str, version: int | None = None, **changes: str) -> Book:
    book = book_get_for_change(user=user, book_id=book_id)
    if version is not None and version != book.version:
        raise VersionConflict()
    updated = book.replace(**changes, updated_at=utcnow())
    return get_repository().book_update(updated, expected_version=book.version, previous=book)


def book_get_for_delete(*, user: Any, book_id: str, permission: str = DELETE_BOOK) -> Book:
    """The book, if ``user`` may delete it (or, with ``permission`` DELETE_CHAPTER, its
    chapters): its owner, or staff holding Django's delete permission. PermissionDenied for
    the rest of staff, as book_get_for_change answers those who may only see it."""
    book = book_get_for_change(user=user, book_id=book_id)
    if not user_can_delete(user, book, permission=permission):
        raise PermissionDenied("Deleting another editor's book needs the delete permission.")
    return book


def book_deletable(*, user: Any, book: Book) -> bool:
    """Whether ``user`` may delete ``book`` (the console offers the button only then)."""
    return user_can_delete(user, book, permission=DELETE_BOOK)


def book_delete(*, user: Any, book_id: str) -> None:
    book = book_get_for_delete(user=user, book_id=book_id)
    repository = get_repository()
    # The audio and the cover go first: a delete that fails part-way keeps the chapters it has
    # not reached and DELETE again finishes it, but an object whose record had gone would stay
    # for ever. (A cover completing meanwhile finds the book gone and deletes its own.)
    listed = book_chapters(book_id=book_id)
    objects_delete(keys=[book.cover_key, book.cover_upload_key])
    objects_delete(keys=[c.object_key for c in listed])
    chapters = repository.book_delete(book_id)
    known = {c.object_key for c in listed}
    objects_delete(keys=[c.object_key for c in chapters if c.object_key not in known])
    logger.info("book deleted", extra={"book_id": book_id, "chapters": len(chapters)})
    # The book is gone whatever a receiver does: a receiver's failure is logged, and the
    # delete still answers that it happened.
    for receiver, result in book_deleted.send_robust(sender=Book, book_id=book_id):
        if isinstance(result, Exception):
            logger.error(
                "book_deleted receiver failed",
                extra={"book_id": book_id, "receiver": getattr(receiver, "__qualname__", "?")},
                exc_info=result,
            )


def book_chapters(*, book_id: str) -> list[Chapter]:
    """Every chapter of the book, all pages read."""
    repository = get_repository()
    chapters: list[Chapter] = []
    cursor = None
    while True:
        page = repository.chapter_list(book_id, limit=100, cursor=cursor)
        chapters += page.items
        cursor = page.next_cursor
        if cursor is None:
            return chapters
