"""The DynamoDB units of the API calls the cost model prices, and the chapters' bitrate.

Units are measured on AWS's DynamoDB Local with ``ReturnConsumedCapacity=INDEXES`` (the
Capacity of deploy/bench/capacity.py), through the repositories each call goes through, in the
order its service makes them (books/services/, listening/services/, voj/security/):

- stream-url, named with its book as the listener's player asks for it: one BatchGetItem of
  the account's change record (the token check), the book's head (owner and status: who may
  play it; both read consistently) and the chapter;
- progress write, newer and further (what a playing device sends): the change record, the
  book's head and the chapter in one BatchGetItem, then the progress item read and its
  conditional write;
- chapter upload: create (the book, the last number, the chapter's transaction), then complete
  (the book, the chapter, the chapter's update to ready with its media key and duration).

The book carries the API's largest description (5,000 characters, 15 KB), as the catalogue's
table in docs/performance.md does: a read of the book item is charged by its size, which the
listener's paths avoid by reading the head (books/repository/dynamodb/access.py); the uploads
still read the book.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from books.domain import Book, BookStatus, Chapter, ChapterStatus
from books.repository.dynamodb import DynamoDBRepository
from books.repository.tables import create_tables
from deploy.bench.capacity import Capacity, Figures, bench_client
from deploy.bench.dynamodb import DESCRIPTION
from listening.domain import Position
from listening.repository.dynamodb import DynamoDBListeningRepository
from listening.repository.tables import create_listening_table

ROOT = Path(__file__).resolve().parents[2]
# The longest audio fixture: a 40-second AAC chapter, encoded as uploads are.
CHAPTER_FIXTURE = ROOT / "tests" / "fixtures" / "chapter-40s.m4a"

# What DynamoDB charges a strongly consistent read of an item that does not exist.
MISSING_RECORD_READ_UNITS = 1.0

STREAM_URL = "stream-url"
PROGRESS = "progress write"
UPLOAD_CREATE = "chapter upload: create"
UPLOAD_COMPLETE = "chapter upload: complete"


@dataclass(frozen=True)
class Bitrate:
    """A chapter file's average bitrate: its bytes over its duration, container included."""

    path: str
    seconds: float
    size_bytes: int

    @property
    def bits_per_second(self) -> float:
        return self.size_bytes * 8 / self.seconds


def bitrate(path: Path = CHAPTER_FIXTURE) -> Bitrate:
    """Duration read by mutagen (as the media checks read it), size from the file."""
    import mutagen  # noqa: PLC0415 - the bench's only use; not a dependency of the app

    audio = mutagen.File(path)
    return Bitrate(str(path.relative_to(ROOT)), audio.info.length, path.stat().st_size)


def measure(endpoint: str) -> Figures:
    """(write units, read units, requests) of each priced API call, on DynamoDB Local."""
    import django  # noqa: PLC0415 - voj.security loads Django's models: the apps first

    django.setup()
    from voj.security.dynamodb import create_security_table  # noqa: PLC0415 - after setup

    client = bench_client(endpoint)
    suffix = uuid.uuid4().hex[:8]
    names = {
        "books": f"bench-books-{suffix}",
        "chapters": f"bench-chapters-{suffix}",
        "listening": f"bench-listening-{suffix}",
        "security": f"bench-security-{suffix}",
    }
    create_tables(client, books=names["books"], chapters=names["chapters"])
    create_listening_table(client, names["listening"])
    create_security_table(client, names["security"])
    try:
        return _measured(client, names)
    finally:
        for table in names.values():
            client.delete_table(TableName=table)


def _measured(client: Any, names: dict[str, str]) -> Figures:
    catalogue = DynamoDBRepository(
        client=client, books_table=names["books"], chapters_table=names["chapters"]
    )
    from voj.security.dynamodb import DynamoDBExpiringState  # noqa: PLC0415 - after setup

    listening = DynamoDBListeningRepository(client=client, table=names["listening"])
    security = DynamoDBExpiringState(client=client, table=names["security"])
    figures: Figures = {}
    measured = Capacity(client).recorder(figures)
    book = catalogue.book_create(
        Book(title="토지", author="박경리", owner=1, description=DESCRIPTION)
    )

    def create() -> Chapter:
        catalogue.book_get(book.id)
        number = catalogue.chapter_last_number(book.id) + 1
        return catalogue.chapter_create(Chapter(book_id=book.id, number=number, title="제1장"))

    chapter = measured(UPLOAD_CREATE, create)

    def complete() -> Chapter:
        catalogue.book_get(book.id)
        current = catalogue.chapter_get(book.id, chapter.id)
        done = current.replace(
            status=ChapterStatus.READY,
            object_key=f"media/books/{book.id}/chapters/{chapter.id}-r1.m4a",
            object_etag='"0123456789abcdef0123456789abcdef"',
            duration_seconds=1800.0,
            faststart=True,
        )
        return catalogue.chapter_update(done, previous=current)

    measured(UPLOAD_COMPLETE, complete)
    catalogue.book_set_status(
        catalogue.book_get(book.id).replace(status=BookStatus.PUBLISHED),
        expected_version=catalogue.book_get(book.id).version,
    )

    def stream() -> None:
        along = security.item_read("account:1")
        catalogue.book_access_with_chapter(book.id, chapter.id, consistent_access=True, along=along)

    measured(STREAM_URL, stream)
    first = _position(chapter.id, 10.0, 0)
    listening.progress_record(user_id=1, book_id=book.id, report=first, finishes=False)

    def progress() -> None:
        along = security.item_read("account:1")
        catalogue.book_access_with_chapter(book.id, chapter.id, along=along)
        later = _position(chapter.id, 30.0, 20)
        write = listening.progress_record(user_id=1, book_id=book.id, report=later, finishes=False)
        assert write.applied, write

    measured(PROGRESS, progress)
    return _missing_record_charged(figures)


def _missing_record_charged(figures: Figures) -> Figures:
    """The account record the hot paths' batches read is absent (the account changed nothing):
    DynamoDB Local charges a batch nothing for a key it does not find, while DynamoDB charges
    any read of a missing item its minimum, 1 unit for a consistent read. Priced as DynamoDB
    does."""
    charged = dict(figures)
    for call in (STREAM_URL, PROGRESS):
        writes, reads, requests = figures[call]
        charged[call] = (writes, reads + MISSING_RECORD_READ_UNITS, requests)
    return charged


def _position(chapter_id: str, seconds: float, after: int) -> Position:
    return Position(
        chapter_id=chapter_id,
        chapter_number=1,
        position_seconds=seconds,
        updated_at=datetime(2026, 1, 1, 8, 0, after, tzinfo=UTC),
        device="Pixel 8",
    )
