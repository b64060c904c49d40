"""The catalogue's domain types. Both repository backends map to and from these."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class ChapterStatus(StrEnum):
    PENDING_UPLOAD = "pending_upload"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """How people read the status (the console); the value is what the API returns."""
        return self.value.replace("_", " ").capitalize()


class BookStatus(StrEnum):
    """A draft is seen by its owner, editors' own lists and staff; a published book by everyone
    (books/permissions.py)."""

    DRAFT = "draft"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True, slots=True)
class BookVisibility:
    """Which books a list may show: every book (staff), or the published ones plus the drafts
    of ``drafts_of`` (an editor's own; None for a listener, who sees no draft)."""

    everything: bool = False
    drafts_of: int | None = None


EVERY_BOOK = BookVisibility(everything=True)
PUBLISHED_BOOKS = BookVisibility()


@dataclass(frozen=True, slots=True)
class Book:
    title: str
    author: str
    owner: int
    description: str = ""
    language: str = ""
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    # Every chapter, and the ready ones alone: what the owner and staff see, and what everyone
    # else does (books/services/books.py answers each viewer with theirs).
    chapter_count: int = 0
    ready_count: int = 0
    version: int = 1
    status: BookStatus = BookStatus.DRAFT
    # When the book was last published; None while it is a draft.
    published_at: datetime | None = None
    # The listener-size cover's object key ("" = no cover), and the key a cover upload granted
    # and not yet completed goes to ("" = none pending): books/services/covers.py.
    cover_key: str = ""
    cover_upload_key: str = ""

    @property
    def is_published(self) -> bool:
        return self.status == BookStatus.PUBLISHED

    @property
    def access(self) -> BookAccess:
        return BookAccess(id=self.id, owner=self.owner, status=self.status)

    def replace(self, **changes: Any) -> Book:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class BookAccess:
    """What decides who may see a book (books/permissions.py): its owner and its status. The
    listener's hot paths (a progress report, a stream link) read this alone: on DynamoDB it is
    the book's small head item, not the book item with its description of up to 15 KB."""

    id: str
    owner: int
    status: BookStatus

    @property
    def is_published(self) -> bool:
        return self.status == BookStatus.PUBLISHED


@dataclass(frozen=True, slots=True)
class Chapter:
    book_id: str
    number: int
    title: str
    status: ChapterStatus = ChapterStatus.PENDING_UPLOAD
    failure_reason: str = ""
    object_key: str = ""
    original_filename: str = ""
    content_type: str = ""
    size_bytes: int = 0
    duration_seconds: float | None = None
    faststart: bool | None = None
    # Each upload attempt gets a new revision, so every object key is used once and the CDN
    # never serves stale audio.
    revision: str = ""
    # The ETag of the published object, as completion checked and copied it: the console's
    # check compares the object under object_key with it. Empty until published.
    object_etag: str = ""
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    def replace(self, **changes: Any) -> Chapter:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Page[T]:
    """One page of results; ``next_cursor`` is opaque and None on the last page."""

    items: list[T]
    next_cursor: str | None
