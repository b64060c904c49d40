"""A listener's progress in a book: reports from their devices, merged so that a late report from
an offline device never takes them back, and the continue-listening shelf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from books.domain import Book, Chapter, Page, utcnow
from listening.domain import Position, Progress, ProgressWrite
from listening.errors import ReportFromFuture
from listening.repository import get_listening_repository
from listening.services.catalogue import CatalogueReads, kept_seconds, user_id_of, visible_page
from voj.item_reads import CheckAlongside

# How far ahead of the server's clock a device's may run. A report is ``latest`` until one with a
# newer ``updated_at`` arrives, so a report stamped by a clock set far ahead would keep every
# honest report after it from becoming ``latest`` until that time: refused (400). Phones keep
# their clocks within seconds of network time; five minutes spares one that drifted or was set
# by hand, and at worst holds ``latest`` for five minutes.
FUTURE_ALLOWANCE = timedelta(minutes=5)

# The end of a chapter, where a player stops: a report this close to the end of the book's last
# ready chapter finishes the book (players rarely report the very last frame).
FINISH_MARGIN_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ShelfItem:
    progress: Progress
    book: Book


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """One device's report: the listener was at ``position_seconds`` of the chapter at the
    device's time ``updated_at``."""

    book_id: str
    chapter_id: str
    position_seconds: float
    updated_at: datetime
    device: str


def progress_record(
    *,
    user: Any,
    book_id: str,
    chapter_id: str,
    position_seconds: float,
    updated_at: datetime,
    device: str,
    account_check: CheckAlongside | None = None,
) -> ProgressWrite:
    """Merge one report into the listener's progress in the book. ``account_check`` (the
    token's, left by the view) is made alongside the read of the book's head and chapter."""
    report = ProgressReport(book_id, chapter_id, position_seconds, updated_at, device)
    return progress_record_with(CatalogueReads(user, account_check=account_check), report)


def progress_record_with(reads: CatalogueReads, report: ProgressReport) -> ProgressWrite:
    """progress_record over ``reads``, which a batch shares between its reports."""
    book = reads.book_naming(report.book_id, report.chapter_id)
    if report.updated_at > utcnow() + FUTURE_ALLOWANCE:
        raise ReportFromFuture()
    chapter = reads.chapter(book, report.chapter_id, report.position_seconds)
    position = Position(
        chapter_id=chapter.id,
        chapter_number=chapter.number,
        position_seconds=kept_seconds(report.position_seconds),
        updated_at=report.updated_at.astimezone(UTC),
        device=report.device,
    )
    return get_listening_repository().progress_record(
        user_id=user_id_of(reads.user),
        book_id=book.id,
        report=position,
        finishes=_finishes(reads, chapter, report.position_seconds),
    )


def _finishes(reads: CatalogueReads, chapter: Chapter, position_seconds: float) -> bool:
    """Whether the report is at the end of the book's last ready chapter. Only a report within
    the last second of its chapter reads the book's chapters: the common report reads none."""
    duration = chapter.duration_seconds
    if duration is None or position_seconds < duration - FINISH_MARGIN_SECONDS:
        return False
    return reads.last_ready_number(chapter.book_id) == chapter.number


def progress_get(*, user: Any, book_id: str) -> Progress:
    """BookNotFound if the listener cannot see the book, ProgressNotFound if none is kept."""
    CatalogueReads(user).book(book_id)
    return get_listening_repository().progress_get(user_id=user_id_of(user), book_id=book_id)


def progress_delete(*, user: Any, book_id: str) -> None:
    """Forget the listener's progress in a book they can see; nothing to forget is no error
    (a DELETE repeated after a lost answer succeeds again)."""
    CatalogueReads(user).book(book_id)
    get_listening_repository().progress_delete(user_id=user_id_of(user), book_id=book_id)


def progress_shelf(*, user: Any, limit: int, cursor: str | None = None) -> Page[ShelfItem]:
    """The continue-listening shelf: the listener's books, newest ``latest`` first, without the
    books that are gone or that they can no longer see (unpublished)."""
    user_id = user_id_of(user)
    repository = get_listening_repository()
    return visible_page(
        reads=CatalogueReads(user),
        read=lambda size, at: repository.progress_list(user_id=user_id, limit=size, cursor=at),
        limit=limit,
        cursor=cursor,
        book_id_of=lambda progress: progress.book_id,
        combine=ShelfItem,
    )
