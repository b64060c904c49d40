"""The SQL backend: the Django ORM, SQLite in the embedded default."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, Max, Model, Q, QuerySet, Value, When

from books.domain import Book, BookAccess, BookStatus, BookVisibility, Chapter, ChapterStatus, Page
from books.errors import (
    BookNotFound,
    ChapterNotFound,
    ChapterNumberTaken,
    InvalidCursor,
    VersionConflict,
)
from books.models import BookRecord, ChapterRecord
from books.search_text import pattern, query_words, representation, term_pattern
from voj.item_reads import ItemRead

from .cursor import decode_cursor, encode_cursor

_BOOK_FIELDS = [f.name for f in dataclasses.fields(Book)]
_CHAPTER_FIELDS = [f.name for f in dataclasses.fields(Chapter) if f.name != "book_id"]
_EDITABLE_BOOK_FIELDS = ("title", "author", "description", "language")


def _book(record: BookRecord) -> Book:
    values = {name: getattr(record, name) for name in _BOOK_FIELDS}
    values["status"] = BookStatus(values["status"])
    return Book(**values)


def _visible(visible: BookVisibility) -> QuerySet[BookRecord]:
    books = BookRecord.objects.all()
    if visible.everything:
        return books
    published = Q(status=str(BookStatus.PUBLISHED))
    if visible.drafts_of is None:
        return books.filter(published)
    return books.filter(published | Q(owner=visible.drafts_of))


def _search_columns(book: Book) -> dict[str, str]:
    return {
        "search_title": representation(book.title),
        "search_author": representation(book.author),
    }


def _search_page(
    queryset: QuerySet[BookRecord], *, query: str, limit: int, cursor: str | None
) -> Page[Book]:
    """The books matching ``query``, titles first (``search_text.rank``), then newest first;
    keyset-paged on (rank, created_at, id). A cursor of another query is refused."""
    words = query_words(query)
    if not words:
        return Page([], None)
    # Django escapes % and _ in ``contains``; a word holds neither anyway.
    for word in words:
        needle = pattern(word)
        queryset = queryset.filter(
            Q(search_title__contains=needle) | Q(search_author__contains=needle)
        )
    queryset = queryset.annotate(
        rank=Case(
            When(search_title__contains=term_pattern(words), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    )
    kind = "search:" + " ".join(word.text for word in words)
    if cursor:
        position = decode_cursor(kind, cursor)
        try:
            at = datetime.fromisoformat(position["t"])
            last_rank = int(position["r"])
            last_id = str(position["id"])
        except (KeyError, TypeError, ValueError):
            raise InvalidCursor() from None
        queryset = queryset.filter(
            Q(rank__gt=last_rank)
            | Q(rank=last_rank, created_at__lt=at)
            | Q(rank=last_rank, created_at=at, id__lt=last_id)
        )
    rows = list(queryset.order_by("rank", "-created_at", "-id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:  # one more than a page: another page follows
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            kind,
            {"r": last.rank, "t": last.created_at.isoformat(), "id": last.pk},
        )
    return Page([_book(r) for r in rows], next_cursor)


def _chapter(record: ChapterRecord) -> Chapter:
    values = {name: getattr(record, name) for name in _CHAPTER_FIELDS}
    values["status"] = ChapterStatus(values["status"])
    return Chapter(book_id=record.book_id, **values)


def _ready(chapter: Chapter) -> int:
    """What the chapter adds to its book's ready count."""
    return 1 if chapter.status == ChapterStatus.READY else 0


def _chapter_values(chapter: Chapter) -> dict:
    values = {name: getattr(chapter, name) for name in _CHAPTER_FIELDS}
    values["status"] = str(chapter.status)
    return values


def _newest_first_page[M: Model](
    queryset: QuerySet[M], *, kind: str, limit: int, cursor: str | None, time_field: str
) -> tuple[list[M], str | None]:
    if cursor:
        position = decode_cursor(kind, cursor)
        try:
            at = datetime.fromisoformat(position["t"])
            last_id = str(position["id"])
        except (KeyError, TypeError, ValueError):
            raise InvalidCursor() from None
        queryset = queryset.filter(
            Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "id__lt": last_id})
        )
    rows = list(queryset.order_by(f"-{time_field}", "-id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            kind, {"t": getattr(last, time_field).isoformat(), "id": last.pk}
        )
    return rows, next_cursor


class SqlRepository:
    def book_create(self, book: Book) -> Book:
        BookRecord.objects.create(
            **{name: getattr(book, name) for name in _BOOK_FIELDS}, **_search_columns(book)
        )
        return book

    def book_get(self, book_id: str) -> Book:
        try:
            return _book(BookRecord.objects.get(pk=book_id))
        except BookRecord.DoesNotExist:
            raise BookNotFound() from None

    def book_access(self, book_id: str) -> BookAccess:
        row = BookRecord.objects.filter(pk=book_id).values("owner", "status").first()
        if row is None:
            raise BookNotFound()
        return BookAccess(id=book_id, owner=row["owner"], status=BookStatus(row["status"]))

    def book_access_with_chapter(
        self,
        book_id: str,
        chapter_id: str,
        *,
        consistent_access: bool = False,
        along: ItemRead | None = None,  # no DynamoDB request to read it in: left to its owner
    ) -> tuple[BookAccess, Chapter | None]:
        row = (
            ChapterRecord.objects.select_related("book")
            .filter(pk=chapter_id, book_id=book_id)
            .first()
        )
        if row is None:
            return self.book_access(book_id), None
        return _book(row.book).access, _chapter(row)

    def book_get_many(self, book_ids: list[str]) -> dict[str, Book]:
        return {r.id: _book(r) for r in BookRecord.objects.filter(pk__in=set(book_ids))}

    def book_list(
        self, *, limit: int, visible: BookVisibility, cursor: str | None = None
    ) -> Page[Book]:
        rows, next_cursor = _newest_first_page(
            _visible(visible),
            kind="books",
            limit=limit,
            cursor=cursor,
            time_field="created_at",
        )
        return Page([_book(r) for r in rows], next_cursor)

    def book_search(
        self, *, query: str, visible: BookVisibility, limit: int, cursor: str | None = None
    ) -> Page[Book]:
        return _search_page(_visible(visible), query=query, limit=limit, cursor=cursor)

    def book_update(
        self, book: Book, *, expected_version: int, previous: Book | None = None
    ) -> Book:
        return self._book_write(
            book,
            expected_version,
            **{name: getattr(book, name) for name in _EDITABLE_BOOK_FIELDS},
            **_search_columns(book),
        )

    def book_set_status(self, book: Book, *, expected_version: int) -> Book:
        return self._book_write(
            book, expected_version, status=str(book.status), published_at=book.published_at
        )

    def book_set_cover(self, book: Book, *, expected_version: int) -> Book:
        return self._book_write(
            book,
            expected_version,
            cover_key=book.cover_key,
            cover_upload_key=book.cover_upload_key,
        )

    def _book_write(self, book: Book, expected_version: int, **fields: Any) -> Book:
        """Store ``fields`` and the book's updated_at if it is still at ``expected_version``."""
        changed = BookRecord.objects.filter(pk=book.id, version=expected_version).update(
            **fields, updated_at=book.updated_at, version=expected_version + 1
        )
        if not changed:
            if not BookRecord.objects.filter(pk=book.id).exists():
                raise BookNotFound()
            raise VersionConflict()
        return self.book_get(book.id)

    def book_delete(self, book_id: str) -> list[Chapter]:
        with transaction.atomic():
            chapters = [_chapter(r) for r in ChapterRecord.objects.filter(book_id=book_id)]
            deleted, _ = BookRecord.objects.filter(pk=book_id).delete()
        if not deleted:
            raise BookNotFound()
        return chapters

    def chapter_create(self, chapter: Chapter) -> Chapter:
        try:
            with transaction.atomic():
                if not BookRecord.objects.filter(pk=chapter.book_id).update(
                    chapter_count=F("chapter_count") + 1,
                    ready_count=F("ready_count") + _ready(chapter),
                ):
                    raise BookNotFound()
                ChapterRecord.objects.create(book_id=chapter.book_id, **_chapter_values(chapter))
        except IntegrityError:
            raise ChapterNumberTaken() from None
        return chapter

    def chapter_get(self, book_id: str, chapter_id: str) -> Chapter:
        try:
            return _chapter(ChapterRecord.objects.get(pk=chapter_id, book_id=book_id))
        except ChapterRecord.DoesNotExist:
            raise ChapterNotFound() from None

    def chapter_find(self, chapter_id: str) -> Chapter:
        try:
            return _chapter(ChapterRecord.objects.get(pk=chapter_id))
        except ChapterRecord.DoesNotExist:
            raise ChapterNotFound() from None

    def chapter_list(
        self, book_id: str, *, limit: int, cursor: str | None = None, ready_only: bool = False
    ) -> Page[Chapter]:
        queryset = ChapterRecord.objects.filter(book_id=book_id)
        if ready_only:
            queryset = queryset.filter(status=str(ChapterStatus.READY))
        if cursor:
            position = decode_cursor(f"chapters:{book_id}", cursor)
            queryset = queryset.filter(number__gt=int(position.get("n", 0)))
        rows = list(queryset.order_by("number")[: limit + 1])
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(f"chapters:{book_id}", {"n": rows[-1].number})
        return Page([_chapter(r) for r in rows], next_cursor)

    def chapter_last_number(self, book_id: str) -> int:
        result = ChapterRecord.objects.filter(book_id=book_id).aggregate(m=Max("number"))
        return result["m"] or 0

    def chapter_update(self, chapter: Chapter, *, previous: Chapter) -> Chapter:
        expected_version = previous.version
        stored = chapter.replace(version=expected_version + 1)
        values = _chapter_values(stored)
        values.pop("id")
        values.pop("created_at")
        # The write is conditional on the version read, so ``previous`` is what it replaces and
        # the book's ready count moves with it, in the same transaction.
        ready_delta = _ready(chapter) - _ready(previous)
        try:
            with transaction.atomic():
                changed = ChapterRecord.objects.filter(
                    pk=chapter.id, version=expected_version
                ).update(**values)
                if changed and ready_delta:
                    BookRecord.objects.filter(pk=chapter.book_id).update(
                        ready_count=F("ready_count") + ready_delta
                    )
        except IntegrityError:
            raise ChapterNumberTaken() from None
        if not changed:
            if not ChapterRecord.objects.filter(pk=chapter.id).exists():
                raise ChapterNotFound()
            raise VersionConflict()
        return stored

    def chapter_delete(self, chapter: Chapter) -> None:
        with transaction.atomic():
            deleted, _ = ChapterRecord.objects.filter(
                pk=chapter.id, version=chapter.version
            ).delete()
            if not deleted:
                if ChapterRecord.objects.filter(pk=chapter.id).exists():
                    raise VersionConflict()
                raise ChapterNotFound()
            BookRecord.objects.filter(pk=chapter.book_id).update(
                chapter_count=F("chapter_count") - 1,
                ready_count=F("ready_count") - _ready(chapter),
            )

    def chapters_by_status(
        self, status: ChapterStatus, *, limit: int, cursor: str | None = None
    ) -> Page[Chapter]:
        rows, next_cursor = _newest_first_page(
            ChapterRecord.objects.filter(status=str(status)),
            kind=f"status:{status}",
            limit=limit,
            cursor=cursor,
            time_field="updated_at",
        )
        return Page([_chapter(r) for r in rows], next_cursor)

    def ping(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM books_book LIMIT 1")
