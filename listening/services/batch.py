"""Reports uploaded together after offline listening: each merged like a single report, in the
order sent, and a bad one spoils none of the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from listening.domain import ProgressWrite
from listening.services.catalogue import CatalogueReads
from listening.services.progress import progress_record_with
from voj.exceptions import DomainError


@dataclass(frozen=True, slots=True)
class ProgressReport:
    book_id: str
    chapter_id: str
    position_seconds: float
    updated_at: datetime
    device: str


def progress_record_batch(
    *, user: Any, items: Sequence[ProgressReport]
) -> list[ProgressWrite | DomainError]:
    """Each report's outcome, in order: what recording it did, or why it was refused (a 4xx
    DomainError). A store that fails (503) fails the whole batch instead: reports merge
    idempotently, so the app sends the batch again and nothing is counted twice. The catalogue
    is read once per book and chapter for the whole batch."""
    reads = CatalogueReads(user)
    results: list[ProgressWrite | DomainError] = []
    for item in items:
        try:
            results.append(
                progress_record_with(
                    reads,
                    book_id=item.book_id,
                    chapter_id=item.chapter_id,
                    position_seconds=item.position_seconds,
                    updated_at=item.updated_at,
                    device=item.device,
                )
            )
        except DomainError as error:
            if error.status_code >= 500:
                raise
            results.append(error)
    return results
