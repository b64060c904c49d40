"""The catalogue's DynamoDB tables, created from the stack's definition (deploy/stack.yaml) at
whatever endpoint the settings point to: DynamoDB Local, moto, or an account without the stack.

    python manage.py create_tables

Idempotent: a table that exists is left as it is (its definition is not compared or changed).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from books.repository.tables import create_tables
from voj.aws import aws_client


class Command(BaseCommand):
    help = "Create the catalogue's DynamoDB tables from the stack definition; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        client = aws_client("dynamodb")
        created = create_tables(
            client, books=settings.VOJ_BOOKS_TABLE, chapters=settings.VOJ_CHAPTERS_TABLE
        )
        self.stdout.write(f"DynamoDB at {client.meta.endpoint_url}:")
        for name, new in created.items():
            self.stdout.write(f"  {name}: {'created' if new else 'already exists'}")
