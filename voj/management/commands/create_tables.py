"""voj's DynamoDB tables (the catalogue's, the security state's and what listeners keep),
created from the stack's definition (deploy/stack.yaml) at whatever endpoint the settings point
to: DynamoDB Local, moto, or an account without the stack.

    python manage.py create_tables

Idempotent, and safe to run twice at once (voj/dynamodb_tables.py): a table that exists is left
as it is (its definition is not compared or changed).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from books.repository.tables import create_tables
from listening.repository.tables import create_listening_table
from voj.aws import aws_client
from voj.dynamodb_tables import TableCreationFailed
from voj.security.dynamodb import create_security_table


class Command(BaseCommand):
    help = "Create voj's DynamoDB tables from the stack definition; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        client = aws_client("dynamodb")
        try:
            created = create_tables(
                client, books=settings.VOJ_BOOKS_TABLE, chapters=settings.VOJ_CHAPTERS_TABLE
            )
            created[settings.VOJ_SECURITY_TABLE] = create_security_table(
                client, settings.VOJ_SECURITY_TABLE
            )
            created[settings.VOJ_LISTENING_TABLE] = create_listening_table(
                client, settings.VOJ_LISTENING_TABLE
            )
        except TableCreationFailed as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"DynamoDB at {client.meta.endpoint_url}:")
        for name, new in created.items():
            self.stdout.write(f"  {name}: {'created' if new else 'already exists'}")
