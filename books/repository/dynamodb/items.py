"""Keys and items: the mapping between DynamoDB items and the domain types (see ``tables``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from books.domain import Book, BookAccess, BookStatus, Chapter, ChapterStatus
from books.repository.tables import (
    BOOK_ITEM,
    BOOK_LIST_PARTITION,
    DRAFTS_PARTITION_PREFIX,
    HEAD_ITEM,
    PUBLISHED_PARTITION,
    SLOT_PREFIX,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Chapter numbers are at most 100,000 (books/serializers.py); ten digits keep slots in order.
_SLOT_DIGITS = 10


def serialize(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


# --- keys ------------------------------------------------------------------------------------


def book_key(book_id: str) -> dict[str, Any]:
    return {"book_id": {"S": book_id}, "sk": {"S": BOOK_ITEM}}


def head_key(book_id: str) -> dict[str, Any]:
    return {"book_id": {"S": book_id}, "sk": {"S": HEAD_ITEM}}


def slot_sort_key(number: int) -> str:
    return f"{SLOT_PREFIX}{number:0{_SLOT_DIGITS}d}"


def slot_key(book_id: str, number: int) -> dict[str, Any]:
    return {"book_id": {"S": book_id}, "sk": {"S": slot_sort_key(number)}}


def slot_number(item: dict[str, Any]) -> int:
    return int(item["sk"]["S"].removeprefix(SLOT_PREFIX))


def chapter_key(book_id: str, chapter_id: str) -> dict[str, Any]:
    return {"book_id": {"S": book_id}, "chapter_id": {"S": chapter_id}}


def book_list_sort_key(book: Book) -> str:
    # ISO timestamps in UTC sort lexically in time order; the id breaks ties.
    return f"{book.created_at.isoformat()}#{book.id}"


def drafts_partition(owner: int) -> str:
    return f"{DRAFTS_PARTITION_PREFIX}{owner}"


def visibility_keys(book: Book) -> dict[str, str]:
    """The book's keys in ``books-by-visibility``: the published partition, or its owner's
    drafts; sorted like ``books-by-created``."""
    partition = PUBLISHED_PARTITION if book.is_published else drafts_partition(book.owner)
    return {"visible_pk": partition, "visible_sk": book_list_sort_key(book)}


# --- books -----------------------------------------------------------------------------------


def book_to_item(book: Book) -> dict[str, Any]:
    """The book item; ``chapter_count`` lives in the head (``head_to_item``)."""
    return serialize(
        {
            "book_id": book.id,
            "sk": BOOK_ITEM,
            "title": book.title,
            "author": book.author,
            "description": book.description,
            "language": book.language,
            "owner": book.owner,
            "created_at": book.created_at.isoformat(),
            "updated_at": book.updated_at.isoformat(),
            "version": book.version,
            "list_pk": BOOK_LIST_PARTITION,
            "list_sk": book_list_sort_key(book),
            "status": str(book.status),
            **({"published_at": book.published_at.isoformat()} if book.published_at else {}),
            **({"cover_upload_key": book.cover_upload_key} if book.cover_upload_key else {}),
            **visibility_keys(book),
        }
    )


def head_to_item(book: Book) -> dict[str, Any]:
    # The head carries the status too, written with the book's in one transaction: a listing
    # reads the heads consistently, so an unpublished book leaves listeners' lists at once,
    # however far the visibility index lags (books/repository/dynamodb/listing.py).
    return serialize(
        {
            "book_id": book.id,
            "sk": HEAD_ITEM,
            "chapter_count": book.chapter_count,
            "ready_count": book.ready_count,
            "status": str(book.status),
            # And the owner: with the status, all that decides who may see the book, so the
            # listener's hot paths read this head instead of the 15 KB book item (access.py).
            # An owner never changes; heads written before the copy get it from the backfill.
            "owner": book.owner,
            # The cover too: every list reads the heads, so a list carries the cover without a
            # request more, and never one already replaced (the index may lag, the head not).
            **({"cover_key": book.cover_key} if book.cover_key else {}),
        }
    )


def chapter_count(head: dict[str, Any] | None, name: str = "chapter_count") -> int:
    """A count the head keeps. A head written before it counted ready chapters has no
    ``ready_count`` until the backfill (backfill.py) counts them: 0 meanwhile, so a listener is
    shown fewer chapters rather than told of hidden ones; a ready chapter's delete before then
    may even leave it below 0, which reads as 0 too."""
    return max(int(head[name]["N"]), 0) if head and name in head else 0


def item_to_book(item: dict[str, Any], *, head: dict[str, Any] | None) -> Book:
    v = deserialize(item)
    return Book(
        id=v["book_id"],
        title=v["title"],
        author=v["author"],
        description=v.get("description", ""),
        language=v.get("language", ""),
        owner=int(v["owner"]),
        created_at=datetime.fromisoformat(v["created_at"]),
        updated_at=datetime.fromisoformat(v["updated_at"]),
        chapter_count=chapter_count(head),
        ready_count=chapter_count(head, "ready_count"),
        version=int(v["version"]),
        # A book written before publishing existed has no status until the backfill
        # (manage.py backfill_publishing) gives it one: a draft meanwhile, hidden rather than
        # exposed.
        status=BookStatus(v.get("status", BookStatus.DRAFT)),
        published_at=datetime.fromisoformat(v["published_at"]) if "published_at" in v else None,
        cover_key=head_cover_key(head),
        cover_upload_key=v.get("cover_upload_key", ""),
    )


def head_access(head: dict[str, Any]) -> BookAccess | None:
    """Who may see the book, from its head; None for a head written before it carried both the
    owner and the status (the book item says then: access.py)."""
    if "owner" not in head or "status" not in head:
        return None
    return BookAccess(
        id=head["book_id"]["S"],
        owner=int(head["owner"]["N"]),
        status=BookStatus(head["status"]["S"]),
    )


def head_cover_key(head: dict[str, Any] | None) -> str:
    return str(head["cover_key"]["S"]) if head and "cover_key" in head else ""


# --- chapters --------------------------------------------------------------------------------


def chapter_to_item(chapter: Chapter) -> dict[str, Any]:
    values: dict[str, Any] = {
        "book_id": chapter.book_id,
        "chapter_id": chapter.id,
        "number": chapter.number,
        "title": chapter.title,
        "status": str(chapter.status),
        "failure_reason": chapter.failure_reason,
        "object_key": chapter.object_key,
        "original_filename": chapter.original_filename,
        "content_type": chapter.content_type,
        "size_bytes": chapter.size_bytes,
        "revision": chapter.revision,
        "object_etag": chapter.object_etag,
        "created_at": chapter.created_at.isoformat(),
        "updated_at": chapter.updated_at.isoformat(),
        "version": chapter.version,
    }
    if chapter.duration_seconds is not None:
        values["duration_seconds"] = Decimal(str(round(chapter.duration_seconds, 3)))
    if chapter.faststart is not None:
        values["faststart"] = chapter.faststart
    return serialize(values)


def slot_to_item(chapter: Chapter) -> dict[str, Any]:
    return {**slot_key(chapter.book_id, chapter.number), "chapter_id": {"S": chapter.id}}


def item_to_chapter(item: dict[str, Any]) -> Chapter:
    v = deserialize(item)
    duration = v.get("duration_seconds")
    return Chapter(
        id=v["chapter_id"],
        book_id=v["book_id"],
        number=int(v["number"]),
        title=v["title"],
        status=ChapterStatus(v["status"]),
        failure_reason=v.get("failure_reason", ""),
        object_key=v.get("object_key", ""),
        original_filename=v.get("original_filename", ""),
        content_type=v.get("content_type", ""),
        size_bytes=int(v.get("size_bytes", 0)),
        duration_seconds=float(duration) if duration is not None else None,
        faststart=v.get("faststart"),
        revision=v.get("revision", ""),
        object_etag=v.get("object_etag", ""),
        created_at=datetime.fromisoformat(v["created_at"]),
        updated_at=datetime.fromisoformat(v["updated_at"]),
        version=int(v["version"]),
    )
