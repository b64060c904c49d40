"""The places a listener marked in a book, with a note. Each is theirs alone: another listener's
bookmark is not found (404)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from books.domain import Page, utcnow
from books.errors import BookNotFound
from listening.domain import Bookmark
from listening.errors import BookmarkNotFound, VersionConflict
from listening.repository import get_listening_repository
from listening.services.catalogue import CatalogueReads, kept_seconds, user_id_of, visible_page


def bookmark_create(
    *, user: Any, book_id: str, chapter_id: str, position_seconds: float, note: str = ""
) -> Bookmark:
    """In a book the listener can see (404), at a place in one of its ready chapters (400); at
    most VOJ_BOOKMARKS_PER_BOOK in a book (BookmarkLimitReached, 409)."""
    reads = CatalogueReads(user)
    book = reads.book_naming(book_id, chapter_id)
    chapter = reads.chapter(book, chapter_id, position_seconds)
    bookmark = Bookmark(
        user_id=user_id_of(user),
        book_id=book.id,
        chapter_id=chapter.id,
        chapter_number=chapter.number,
        position_seconds=kept_seconds(position_seconds),
        note=note,
    )
    return get_listening_repository().bookmark_create(
        bookmark, per_book_limit=settings.VOJ_BOOKMARKS_PER_BOOK
    )


def bookmark_update(
    *,
    user: Any,
    bookmark_id: str,
    note: str | None = None,
    position_seconds: float | None = None,
    chapter_id: str | None = None,
    version: int | None = None,
) -> Bookmark:
    """Change what is given (None: unchanged). A new place is checked like a new bookmark's; a
    new chapter alone keeps the position, which must then fit that chapter. ``version``, if
    given, must be the stored one (VersionConflict, 409)."""
    repository = get_listening_repository()
    current = repository.bookmark_get(user_id=user_id_of(user), bookmark_id=bookmark_id)
    reads = CatalogueReads(user)
    book = _book_of(reads, current)
    if version is not None and version != current.version:
        raise VersionConflict()
    changes: dict[str, Any] = {"updated_at": utcnow()}
    if note is not None:
        changes["note"] = note
    if chapter_id is not None or position_seconds is not None:
        position = current.position_seconds if position_seconds is None else position_seconds
        chapter = reads.chapter(book, chapter_id or current.chapter_id, position)
        changes.update(
            chapter_id=chapter.id,
            chapter_number=chapter.number,
            position_seconds=kept_seconds(position),
        )
    return repository.bookmark_update(current.replace(**changes), expected_version=current.version)


def _book_of(reads: CatalogueReads, bookmark: Bookmark) -> Any:
    """The bookmark's book; a bookmark in a book the listener can no longer see is hidden like
    the book (lists leave it out too)."""
    try:
        return reads.book(bookmark.book_id)
    except BookNotFound:
        raise BookmarkNotFound() from None


def bookmark_delete(*, user: Any, bookmark_id: str) -> None:
    """The listener's own bookmark, even in a book they can no longer see: it is theirs to
    remove, and that tells them nothing about the book."""
    get_listening_repository().bookmark_delete(user_id=user_id_of(user), bookmark_id=bookmark_id)


def bookmark_list(
    *, user: Any, book_id: str | None, limit: int, cursor: str | None = None
) -> Page[Bookmark]:
    """With ``book_id``: that book's bookmarks in book order (404 if the listener cannot see the
    book). Without: all of them, newest first, leaving out the books they cannot see (like the
    shelf)."""
    user_id = user_id_of(user)
    repository = get_listening_repository()
    reads = CatalogueReads(user)
    if book_id is not None:
        reads.book(book_id)
        return repository.bookmark_list(
            user_id=user_id, book_id=book_id, limit=limit, cursor=cursor
        )
    return visible_page(
        reads=reads,
        read=lambda size, at: repository.bookmark_list(
            user_id=user_id, book_id=None, limit=size, cursor=at
        ),
        limit=limit,
        cursor=cursor,
        book_id_of=lambda bookmark: bookmark.book_id,
        combine=lambda bookmark, _book: bookmark,
    )
