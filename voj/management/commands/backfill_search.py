"""Give the DynamoDB books written before search existed their search terms.

    python manage.py backfill_search

Until it has run, such a book is found by no search (listings still show it). Idempotent and
safe during traffic: books/repository/dynamodb/search_backfill.py says why. The release runs it
before and after the code switch (deploy/release.py); on the SQL backend the migration
(books/migrations/0006_book_search.py) already filled the search columns.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from books.repository.dynamodb.calls import Calls
from books.repository.dynamodb.search_backfill import backfill_search
from voj.aws import aws_client


class Command(BaseCommand):
    help = "Give DynamoDB books written before search existed their search terms; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.VOJ_DATA_BACKEND != "dynamodb":
            self.stdout.write("SQL backend: the books migration has already done this.")
            return
        counts = backfill_search(
            Calls(aws_client("dynamodb")), books_table=settings.VOJ_BOOKS_TABLE
        )
        self.stdout.write(
            f"{settings.VOJ_BOOKS_TABLE}: search terms written for {counts.written} books, "
            f"{counts.unchanged} already had them, {counts.cleaned} old search_text removed."
        )
