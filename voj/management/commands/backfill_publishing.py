"""Give the books written before publishing existed their status, on DynamoDB.

    python manage.py backfill_publishing

A book with a ready chapter becomes published (since its creation), any other a draft: the rule
the SQL migration applies (books/migrations/0003_book_publishing.py, which says why). Until this
has run, such a book reads as a draft: hidden from listeners rather than exposed. Idempotent: a
book that has a status is never touched, so running it again, or during traffic, changes
nothing it should not. The release runs it (deploy/release.py); on the SQL backend the
migration already did the work.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from books.repository.dynamodb.backfill import backfill_publishing
from books.repository.dynamodb.calls import Calls
from voj.aws import aws_client


class Command(BaseCommand):
    help = "Give DynamoDB books written before publishing existed their status; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.VOJ_DATA_BACKEND != "dynamodb":
            self.stdout.write("SQL backend: the books migration has already done this.")
            return
        counts = backfill_publishing(
            Calls(aws_client("dynamodb")),
            books_table=settings.VOJ_BOOKS_TABLE,
            chapters_table=settings.VOJ_CHAPTERS_TABLE,
        )
        self.stdout.write(
            f"{settings.VOJ_BOOKS_TABLE}: {counts.published} published, {counts.drafts} left "
            f"drafts, {counts.skipped} changed meanwhile (left as they are)."
        )
