"""Books: created, read and changed by editors (their owner or staff), searched by operators."""

from __future__ import annotations

import logging
from typing import Any

from books.domain import Book, Chapter, Page, utcnow
from books.errors import PermissionDenied, VersionConflict
from books.permissions import user_can_change_book, user_is_editor
from books.repository import get_repository
from books.services.objects import objects_delete

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


def book_get(*, book_id: str) -> Book:
    return get_repository().book_get(book_id)


def book_list(*, limit: int, cursor: str | None = None) -> Page[Book]:
    return get_repository().book_list(limit=limit, cursor=cursor)


def book_search(*, query: str, limit: int, cursor: str | None = None) -> Page[Book]:
    return get_repository().book_search(query=query, limit=limit, cursor=cursor)


def book_get_for_change(*, user: Any, book_id: str) -> Book:
    """The book, if ``user`` may change it and what is in it."""
    book = get_repository().book_get(book_id)
    if not user_can_change_book(user, book):
        raise PermissionDenied("Only the book's owner or staff can change it.")
    return book


def book_update(*, user: Any, book_id: str, version: int | None = None, **changes: str) -> Book:
    book = book_get_for_change(user=user, book_id=book_id)
    if version is not None and version != book.version:
        raise VersionConflict()
    updated = book.replace(**changes, updated_at=utcnow())
    return get_repository().book_update(updated, expected_version=book.version)


def book_delete(*, user: Any, book_id: str) -> None:
    book_get_for_change(user=user, book_id=book_id)
    repository = get_repository()
    # The audio goes first: a delete that fails part-way keeps the chapters it has not reached
    # and DELETE again finishes it, but an object whose chapter had gone would stay for ever.
    listed = book_chapters(book_id=book_id)
    objects_delete(keys=[c.object_key for c in listed])
    chapters = repository.book_delete(book_id)
    known = {c.object_key for c in listed}
    objects_delete(keys=[c.object_key for c in chapters if c.object_key not in known])
    logger.info("book deleted", extra={"book_id": book_id, "chapters": len(chapters)})


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
