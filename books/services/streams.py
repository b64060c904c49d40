"""The short-lived links that play a chapter: for listeners, and the console's preview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from books.domain import Chapter, ChapterStatus
from books.errors import ChapterNotReady
from books.services.chapters import chapter_find, chapter_find_in_book
from streaming.signing import stream_expiry
from streaming.stores import get_object_store
from voj.item_reads import CheckAlongside


@dataclass(frozen=True, slots=True)
class StreamLink:
    url: str
    expires_at: datetime
    content_type: str
    size_bytes: int
    duration_seconds: float | None


def chapter_stream(
    *,
    user: Any,
    chapter_id: str,
    base_url: str,
    book_id: str | None = None,
    account_check: CheckAlongside | None = None,
) -> StreamLink:
    # With its book named, the chapter and who may see the book (its owner and status: the
    # book's head on DynamoDB, books/repository/tables.py) are one read; with the chapter id
    # alone, the by-id index comes first. A listener never learns that a draft's or an unready
    # chapter exists: 404. The owner and staff, who see unready chapters, are told why it does
    # not play.
    if book_id is None:
        chapter = chapter_find(user=user, chapter_id=chapter_id)
    else:
        chapter = chapter_find_in_book(
            user=user, book_id=book_id, chapter_id=chapter_id, account_check=account_check
        )
    if chapter.status != ChapterStatus.READY:
        raise ChapterNotReady(f"The chapter is {chapter.status}, not ready for streaming.")
    return _stream_link(chapter, base_url)


def chapter_preview_url(*, chapter: Chapter, base_url: str) -> str | None:
    if chapter.status != ChapterStatus.READY:
        return None
    return _stream_link(chapter, base_url).url


def _stream_link(chapter: Chapter, base_url: str) -> StreamLink:
    expires_at = stream_expiry(chapter.duration_seconds)
    return StreamLink(
        url=get_object_store().stream_url(
            key=chapter.object_key, expires_at=expires_at, base_url=base_url
        ),
        expires_at=expires_at,
        content_type=chapter.content_type,
        size_bytes=chapter.size_bytes,
        duration_seconds=chapter.duration_seconds,
    )
