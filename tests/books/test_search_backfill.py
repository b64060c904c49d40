"""The books that exist when search ships: the SQL migration fills their search columns, and on
DynamoDB `manage.py backfill_search` writes their term items, idempotent and race-safe."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from books.models import BookRecord
from books.repository import get_repository
from tests.helpers import book_create

MIGRATION = importlib.import_module("books.migrations.0006_book_search")
T0 = datetime(2025, 6, 1, tzinfo=UTC)


def titles(api, q: str) -> list[str]:
    return [b["title"] for b in api.get(f"/api/v1/books?q={q}").json()["results"]]


@pytest.mark.django_db
def test_the_migration_fills_the_search_columns(as_operator):
    BookRecord.objects.create(
        id="b1", title="Crème brûlée", author="Saint-Exupéry", owner=1, created_at=T0, updated_at=T0
    )
    assert titles(as_operator, "creme") == []
    for _ in range(2):  # and again: the same columns
        MIGRATION.fill_search_columns(apps, None)
        stored = BookRecord.objects.get(pk="b1")
        assert (stored.search_title, stored.search_author) == (" creme brulee", " saint exupery")
    assert titles(as_operator, "creme") == ["Crème brûlée"]


def _legacy(book_id: str) -> None:
    """The book as the code before search left it: no term items, a search_text attribute."""
    from books.repository.dynamodb.items import book_key

    repository = get_repository()
    table = repository.books_table  # type: ignore[attr-defined]
    calls = repository.calls  # type: ignore[attr-defined]
    items = calls.call("scan", TableName=table, ConsistentRead=True)["Items"]
    for item in items:
        if item["book_id"]["S"].startswith("search#"):
            calls.call("delete_item", TableName=table, Key={k: item[k] for k in ("book_id", "sk")})
    calls.call(
        "update_item",
        TableName=table,
        Key=book_key(book_id),
        UpdateExpression="SET search_text = :s",
        ExpressionAttributeValues={":s": {"S": "old"}},
    )


def _backfill() -> str:
    out = StringIO()
    call_command("backfill_search", stdout=out)
    return out.getvalue()


def test_the_backfill_writes_the_terms_of_books_without_them(dynamodb, as_editor):
    old = book_create(as_editor, "Moby Dick")
    _legacy(old["id"])
    assert titles(as_editor, "moby") == []
    assert "terms written for 1 books, 0 already had them, 1 old search_text removed" in (
        _backfill()
    )
    assert titles(as_editor, "moby") == ["Moby Dick"]
    book_create(as_editor, "White Whale")  # written by the new code: nothing to do
    assert "terms written for 0 books, 2 already had them, 0 old" in _backfill()
    assert titles(as_editor, "whale") == ["White Whale"]


def test_the_backfill_rewrites_terms_older_than_the_book(dynamodb, as_editor):
    book = book_create(as_editor, "Moby Dick")
    repository = get_repository()
    # An edit by the old code: the book's version moves, its terms do not.
    repository.calls.call(  # type: ignore[attr-defined]
        "update_item",
        TableName=repository.books_table,  # type: ignore[attr-defined]
        Key={"book_id": {"S": book["id"]}, "sk": {"S": "book"}},
        UpdateExpression="SET version = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    assert "terms written for 1 books" in _backfill()


def test_on_sql_the_migration_did_it(db, settings):
    settings.VOJ_DATA_BACKEND = "sql"
    assert "SQL backend" in _backfill()
