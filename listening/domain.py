"""What a listener keeps: where they are in a book (progress) and the places they marked
(bookmarks). Both repository backends map to and from these types."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from books.domain import new_id, utcnow


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a book, as one device reported it: ``updated_at`` is the client's time at which
    the listener was there."""

    chapter_id: str
    chapter_number: int
    position_seconds: float
    updated_at: datetime
    device: str

    @property
    def order(self) -> tuple[int, float]:
        """How far into the book: chapter order first, then the position in the chapter."""
        return (self.chapter_number, self.position_seconds)


@dataclass(frozen=True, slots=True)
class Progress:
    """One listener's progress in one book.

    ``latest`` is the report with the newest ``updated_at``; ``furthest`` the greatest
    ``order`` ever reported, whatever its time; ``finished`` turns true once ``furthest`` reaches
    the end of the book's last ready chapter and stays true.
    """

    user_id: int
    book_id: str
    latest: Position
    furthest: Position
    finished: bool = False


@dataclass(frozen=True, slots=True)
class ProgressWrite:
    """What recording a report did: the progress as stored afterwards, and whether the report
    became ``latest`` (a late report from an offline device does not)."""

    progress: Progress
    applied: bool


@dataclass(frozen=True, slots=True)
class Bookmark:
    user_id: int
    book_id: str
    chapter_id: str
    chapter_number: int
    position_seconds: float
    note: str = ""
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    def replace(self, **changes: Any) -> Bookmark:
        return dataclasses.replace(self, **changes)
