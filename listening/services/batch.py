"""Reports uploaded together after offline listening: each merged like a single report, in the
order sent, and a bad one spoils none of the others."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from listening.domain import ProgressWrite
from listening.services.catalogue import CatalogueReads
from listening.services.progress import ProgressReport, progress_record_with
from voj.exceptions import DomainError


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
            results.append(progress_record_with(reads, item))
        except DomainError as error:
            if error.status_code >= 500:
                raise
            results.append(error)
    return results
