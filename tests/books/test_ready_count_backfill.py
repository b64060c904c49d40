"""The books that exist when ready counts ship: the SQL migration counts their ready chapters,
and on DynamoDB `manage.py backfill_publishing` gives every head its ``ready_count``, race-safe
and idempotent. Until it has, a head without one tells a listener 0 chapters: hidden rather than
exposed."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from books.domain import Book, Chapter, ChapterStatus
from books.models import BookRecord, ChapterRecord
from books.repository import get_repository
from tests.helpers import book_create, book_publish, chapter_create, ready_chapter

MIGRATION = importlib.import_module("books.migrations.0004_book_ready_count")
T0 = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.mark.django_db
def test_the_migration_counts_every_books_ready_chapters():
    books = {}
    for n, statuses in enumerate([["ready", "failed", "ready"], ["pending_upload"], []]):
        books[n] = BookRecord.objects.create(
            id=f"b{n}", title="t", author="a", owner=1, created_at=T0, updated_at=T0
        )
        for number, status in enumerate(statuses, start=1):
            ChapterRecord.objects.create(
                id=f"b{n}c{number}",
                book=books[n],
                number=number,
                title="c",
                status=status,
                created_at=T0,
                updated_at=T0,
            )
    BookRecord.objects.update(ready_count=7)
    for _ in range(2):  # and again: the same counts
        MIGRATION.count_ready_chapters(apps, None)
        assert dict(BookRecord.objects.values_list("id", "ready_count")) == {
            "b0": 2,
            "b1": 0,
            "b2": 0,
        }


def _head(repository, book_id: str) -> dict:
    from books.repository.dynamodb.items import head_key

    return repository.calls.call(
        "get_item", TableName=repository.books_table, Key=head_key(book_id), ConsistentRead=True
    )["Item"]


def _legacy(repository, book_id: str) -> None:
    """The head as the code before ready counts wrote it."""
    from books.repository.dynamodb.items import head_key

    repository.calls.call(
        "update_item",
        TableName=repository.books_table,
        Key=head_key(book_id),
        UpdateExpression="REMOVE ready_count",
    )


def _backfill() -> str:
    out = StringIO()
    call_command("backfill_publishing", stdout=out)
    return out.getvalue()


def test_the_backfill_counts_the_ready_chapters_on_dynamodb(dynamodb, as_editor, as_listener):
    repository = get_repository()
    book = book_create(as_editor)
    ready_chapter(as_editor, book)
    ready_chapter(as_editor, book)
    chapter_create(as_editor, book, size=10)
    book_publish(as_editor, book["id"])
    empty = book_create(as_editor)
    _legacy(repository, book["id"])
    _legacy(repository, empty["id"])
    # Meanwhile: no count is read as none, for a listener; the owner is told every chapter.
    assert as_listener.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 0
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 3

    assert "ready chapters counted for 2 books, 0 already right, 0 skipped" in _backfill()
    assert _head(repository, book["id"])["ready_count"] == {"N": "2"}
    assert as_listener.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 2
    # Again: nothing to write.
    assert "ready chapters counted for 0 books, 2 already right, 0 skipped" in _backfill()


def test_the_backfill_corrects_a_count_the_new_code_started_from_nothing(dynamodb, editor):
    repository = get_repository()
    book = repository.book_create(Book(title="t", author="a", owner=editor.pk))
    chapters = [
        repository.chapter_create(Chapter(book_id=book.id, number=n, title="c")) for n in (1, 2, 3)
    ]
    repository.chapter_update(chapters[0].replace(status=ChapterStatus.READY), previous=chapters[0])
    _legacy(repository, book.id)
    # The new code completes a chapter before the backfill: ADD starts from nothing.
    repository.chapter_update(chapters[1].replace(status=ChapterStatus.READY), previous=chapters[1])
    assert repository.book_get(book.id).ready_count == 1
    assert "counted for 1 books" in _backfill()
    assert repository.book_get(book.id).ready_count == 2


def test_the_backfill_counts_again_when_a_chapter_moves_while_it_counts(
    dynamodb, editor, monkeypatch
):
    from books.repository.dynamodb import backfill

    repository = get_repository()
    book = repository.book_create(Book(title="t", author="a", owner=editor.pk))
    chapter = repository.chapter_create(Chapter(book_id=book.id, number=1, title="c"))
    repository.chapter_create(
        Chapter(book_id=book.id, number=2, title="c", status=ChapterStatus.READY)
    )
    _legacy(repository, book.id)
    original = backfill._ready_chapters
    moves = []

    def complete_meanwhile(calls, table, book_id):
        counted = original(calls, table, book_id)
        if not moves:  # completed after the count, before the SET: the SET must not stand
            moves.append(
                repository.chapter_update(
                    chapter.replace(status=ChapterStatus.READY), previous=chapter
                )
            )
        return counted

    monkeypatch.setattr(backfill, "_ready_chapters", complete_meanwhile)
    assert "counted for 1 books, 0 already right, 0 skipped" in _backfill()
    assert repository.book_get(book.id).ready_count == 2


def test_the_backfill_leaves_a_book_being_deleted(dynamodb, editor):
    from books.repository.dynamodb.items import head_key

    repository = get_repository()
    book = repository.book_create(Book(title="t", author="a", owner=editor.pk))
    _legacy(repository, book.id)
    repository.calls.call(
        "update_item",
        TableName=repository.books_table,
        Key=head_key(book.id),
        UpdateExpression="SET deleting = :yes",
        ExpressionAttributeValues={":yes": {"BOOL": True}},
    )
    assert "counted for 0 books, 0 already right, 1 skipped" in _backfill()
    assert "ready_count" not in _head(repository, book.id)
