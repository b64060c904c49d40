"""The books that exist when publishing ships: the SQL migration's rule and the DynamoDB backfill
(`manage.py backfill_publishing`) give them the same status, and running either again changes
nothing."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from books.domain import (
    EVERY_BOOK,
    PUBLISHED_BOOKS,
    Book,
    BookStatus,
    BookVisibility,
    Chapter,
    ChapterStatus,
)
from books.models import BookRecord, ChapterRecord
from books.repository import get_repository

T0 = datetime(2025, 6, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 1, tzinfo=UTC)
MIGRATION = importlib.import_module("books.migrations.0003_book_publishing")


def _record(title: str, n: int, **fields) -> BookRecord:
    at = T0 + timedelta(days=n)
    return BookRecord.objects.create(
        id=f"00000000-0000-0000-0000-00000000000{n}",
        title=title,
        author="A",
        owner=1,
        created_at=at,
        updated_at=at,
        **fields,
    )


def _chapter(book: BookRecord, number: int, status: ChapterStatus) -> None:
    ChapterRecord.objects.create(
        id=f"{book.id[:-2]}{number}{book.id[-1]}",
        book=book,
        number=number,
        title="c",
        status=str(status),
        created_at=T0,
        updated_at=T0,
    )


@pytest.mark.django_db
def test_the_migration_publishes_the_books_listeners_could_play():
    playable = _record("playable", 1)
    _chapter(playable, 1, ChapterStatus.FAILED)
    _chapter(playable, 2, ChapterStatus.READY)
    unplayable = _record("unplayable", 2)
    _chapter(unplayable, 1, ChapterStatus.PENDING_UPLOAD)
    _chapter(unplayable, 2, ChapterStatus.PROCESSING)
    empty = _record("empty", 3)
    already = _record("already", 4, status="published", published_at=T1)
    _chapter(already, 1, ChapterStatus.READY)

    for _ in range(2):  # and again: nothing more changes
        MIGRATION.publish_playable_books(apps, None)
        states = {r.title: (r.status, r.published_at) for r in BookRecord.objects.order_by("title")}
        assert states == {
            "playable": ("published", playable.created_at),
            "unplayable": ("draft", None),
            "empty": ("draft", None),
            "already": ("published", T1),
        }
    assert empty.status == "draft"


def _legacy(repository, book: Book) -> None:
    """The book item as the code before publishing wrote it: no status, no visibility keys."""
    from books.repository.dynamodb.items import book_key

    repository.calls.call(
        "update_item",
        TableName=repository.books_table,
        Key=book_key(book.id),
        UpdateExpression="REMOVE #status, published_at, visible_pk, visible_sk",
        ExpressionAttributeNames={"#status": "status"},
    )


def _backfill() -> str:
    out = StringIO()
    call_command("backfill_publishing", stdout=out)
    return out.getvalue()


def test_the_backfill_applies_the_rule_on_dynamodb(dynamodb, editor):
    repository = get_repository()
    books = {}
    for n, title in enumerate(["playable", "unplayable", "empty", "new draft"]):
        at = T0 + timedelta(days=n)
        books[title] = repository.book_create(
            Book(title=title, author="A", owner=editor.pk, created_at=at, updated_at=at)
        )
    repository.chapter_create(
        Chapter(book_id=books["playable"].id, number=1, title="c", status=ChapterStatus.FAILED)
    )
    repository.chapter_create(
        Chapter(book_id=books["playable"].id, number=2, title="c", status=ChapterStatus.READY)
    )
    repository.chapter_create(Chapter(book_id=books["unplayable"].id, number=1, title="c"))
    for title in ("playable", "unplayable", "empty"):
        _legacy(repository, books[title])

    # Before the backfill: drafts, hidden from listeners (and out of their owner's list).
    assert repository.book_get(books["playable"].id).status == BookStatus.DRAFT
    assert repository.book_list(limit=10, visible=PUBLISHED_BOOKS).items == []
    assert len(repository.book_list(limit=10, visible=EVERY_BOOK).items) == 4

    assert "1 published, 2 left drafts, 0 changed meanwhile" in _backfill()
    playable = repository.book_get(books["playable"].id)
    assert (playable.status, playable.published_at) == (BookStatus.PUBLISHED, T0)
    assert playable.version == books["playable"].version  # nobody edited it
    assert [b.title for b in repository.book_list(limit=10, visible=PUBLISHED_BOOKS).items] == [
        "playable"
    ]
    mine = repository.book_list(limit=10, visible=BookVisibility(drafts_of=editor.pk)).items
    assert [b.title for b in mine] == ["new draft", "empty", "unplayable", "playable"]

    # Again: every book has a status now, so nothing is touched.
    assert "0 published, 0 left drafts, 0 changed meanwhile" in _backfill()


def test_the_backfill_never_overrides_a_status_set_meanwhile(dynamodb, editor, monkeypatch):
    from books.repository.dynamodb import backfill

    repository = get_repository()
    book = repository.book_create(Book(title="raced", author="A", owner=editor.pk))
    repository.chapter_create(
        Chapter(book_id=book.id, number=1, title="c", status=ChapterStatus.READY)
    )
    _legacy(repository, book)
    original = backfill._ready_chapters
    raced = []

    def publish_meanwhile(calls, table, book_id):
        # An editor unpublishes (as the new code writes it) between the scan and the write.
        if not raced:
            raced.append(book_id)
            stored = repository.book_get(book_id)
            repository.book_set_status(stored, expected_version=stored.version)
        return original(calls, table, book_id)

    monkeypatch.setattr(backfill, "_ready_chapters", publish_meanwhile)
    assert "0 published, 0 left drafts, 1 changed meanwhile" in _backfill()
    assert repository.book_get(book.id).status == BookStatus.DRAFT


@pytest.mark.django_db
def test_the_backfill_has_nothing_to_do_on_sql():
    assert "the books migration has already done this" in _backfill()
