"""Give the books written before publishing existed their status, on DynamoDB.

    python manage.py backfill_publishing

A book with a ready chapter becomes published (since its creation), any other a draft: the rule
the SQL migration applies (books/migrations/0003_book_publishing.py, which says why). Until this
has run, such a book reads as a draft: hidden from listeners rather than exposed. Idempotent: a
book that has a status is never touched, so running it again, or during traffic, changes
nothing it should not. The release runs it (deploy/release.py); on the SQL backend the
migration already did the work.

It also counts every book's ready chapters into the head's ``ready_count`` (what a listener is
told a book has; books/migrations/0004_book_ready_count.py on SQL), where the head lacks it or
holds another count: books/repository/dynamodb/backfill.py says how it stays race-safe.

And it copies each book's owner onto its head where the head lacks it, so the listener's
progress reports and stream links decide visibility from the small head alone (until then
such a book's head is read with its book item, as before: a request more, the same answer).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from books.repository.dynamodb.backfill import (
    backfill_head_owners,
    backfill_publishing,
    backfill_ready_counts,
)
from books.repository.dynamodb.calls import Calls
from voj.aws import aws_client


class Command(BaseCommand):
    help = (
        "Give DynamoDB books written before publishing existed their status, and every book "
        "its count of ready chapters and its head a copy of its owner; idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.VOJ_DATA_BACKEND != "dynamodb":
            self.stdout.write("SQL backend: the books migration has already done this.")
            return
        calls = Calls(aws_client("dynamodb"))
        tables = {
            "books_table": settings.VOJ_BOOKS_TABLE,
            "chapters_table": settings.VOJ_CHAPTERS_TABLE,
        }
        counts = backfill_publishing(calls, **tables)
        self.stdout.write(
            f"{settings.VOJ_BOOKS_TABLE}: {counts.published} published, {counts.drafts} left "
            f"drafts, {counts.skipped} changed meanwhile (left as they are)."
        )
        ready = backfill_ready_counts(calls, **tables)
        self.stdout.write(
            f"{settings.VOJ_BOOKS_TABLE}: ready chapters counted for {ready.counted} books, "
            f"{ready.unchanged} already right, {ready.skipped} skipped (deleted or moving; "
            "the next run counts them)."
        )
        owners = backfill_head_owners(calls, books_table=settings.VOJ_BOOKS_TABLE)
        self.stdout.write(
            f"{settings.VOJ_BOOKS_TABLE}: owner copied onto {owners.copied} heads, "
            f"{owners.skipped} skipped (deleted or copied meanwhile)."
        )
