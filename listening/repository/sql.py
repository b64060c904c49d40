"""The SQL backend of what listeners keep: the Django ORM, SQLite in the embedded default.

Every write that depends on what is stored runs in a transaction that first locks it
(``select_for_update``: row locks on PostgreSQL; on SQLite, IMMEDIATE transactions queue the
writers, voj/settings/base.py), so concurrent reports and creates see each other's results.
"""

from __future__ import annotations

import functools
import operator
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Field, Model, Q, QuerySet

from books.domain import Page
from books.errors import InvalidCursor, VersionConflict
from books.repository.cursor import decode_cursor, encode_cursor
from listening.domain import Bookmark, Position, Progress, ProgressWrite
from listening.errors import BookmarkLimitReached, BookmarkNotFound, ProgressNotFound
from listening.models import BookmarkLockRecord, BookmarkRecord, ProgressRecord

# Two first reports in one book may both find no row: one insert wins, the other fails on the
# unique constraint and merges into the winner's row on its next attempt.
_ATTEMPTS = 3

# Orders of the lists, as (field, descending); the last field is unique, so a cursor (the
# last row's values) says exactly where the next page starts.
Order = tuple[tuple[str, bool], ...]
_SHELF: Order = (("latest_updated_at", True), ("book_id", False))
_BOOK_ORDER: Order = (("chapter_number", False), ("position_seconds", False), ("id", False))
_NEWEST: Order = (("created_at", True), ("id", True))

_POSITION_FIELDS = ("chapter_id", "chapter_number", "position_seconds", "updated_at", "device")
_BOOKMARK_CHANGES = ("chapter_id", "chapter_number", "position_seconds", "note", "updated_at")


def _position(record: ProgressRecord, prefix: str) -> Position:
    return Position(**{name: getattr(record, f"{prefix}_{name}") for name in _POSITION_FIELDS})


def _position_values(position: Position, prefix: str) -> dict[str, Any]:
    return {f"{prefix}_{name}": getattr(position, name) for name in _POSITION_FIELDS}


def _progress(record: ProgressRecord) -> Progress:
    return Progress(
        user_id=record.user_id,
        book_id=record.book_id,
        latest=_position(record, "latest"),
        furthest=_position(record, "furthest"),
        finished=record.finished,
    )


def _bookmark(record: BookmarkRecord) -> Bookmark:
    return Bookmark(
        id=record.id,
        user_id=record.user_id,
        book_id=record.book_id,
        chapter_id=record.chapter_id,
        chapter_number=record.chapter_number,
        position_seconds=record.position_seconds,
        note=record.note,
        created_at=record.created_at,
        updated_at=record.updated_at,
        version=record.version,
    )


def _after(order: Order, values: list[Any]) -> Q:
    """Rows after ``values`` in ``order``: greater in the first field that differs."""
    clauses = []
    for i, (name, descending) in enumerate(order):
        equal = {n: v for (n, _), v in zip(order[:i], values[:i], strict=True)}
        clauses.append(Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[i]}))
    return functools.reduce(operator.or_, clauses)


def _cursor_values(model: type[Model], order: Order, kind: str, cursor: str) -> list[Any]:
    values = decode_cursor(kind, cursor).get("v")
    if not isinstance(values, list) or len(values) != len(order) or None in values:
        raise InvalidCursor()
    fields = [model._meta.get_field(name) for name, _ in order]
    try:
        return [
            field.to_python(value)
            for field, value in zip(fields, values, strict=True)
            if isinstance(field, Field)
        ]
    except (ValidationError, TypeError, ValueError):
        raise InvalidCursor() from None


def _page[M: Model](
    queryset: QuerySet[M], order: Order, *, kind: str, limit: int, cursor: str | None
) -> tuple[list[M], str | None]:
    """Up to ``limit`` rows in ``order`` after the cursor, and the cursor of the next page."""
    if cursor:
        queryset = queryset.filter(
            _after(order, _cursor_values(queryset.model, order, kind, cursor))
        )
    ordering = [f"-{name}" if descending else name for name, descending in order]
    rows = list(queryset.order_by(*ordering)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = [getattr(rows[-1], name) for name, _ in order]
    values = [v.isoformat() if isinstance(v, datetime) else v for v in last]
    return rows, encode_cursor(kind, {"v": values})


class SqlListeningRepository:
    # progress

    def progress_record(
        self, *, user_id: int, book_id: str, report: Position, finishes: bool
    ) -> ProgressWrite:
        for attempt in range(_ATTEMPTS):
            try:
                with transaction.atomic():
                    return self._merge(user_id, book_id, report, finishes)
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _merge(user_id: int, book_id: str, report: Position, finishes: bool) -> ProgressWrite:
        record = (
            ProgressRecord.objects.select_for_update()
            .filter(user_id=user_id, book_id=book_id)
            .first()
        )
        if record is None:
            record = ProgressRecord.objects.create(
                user_id=user_id,
                book_id=book_id,
                **_position_values(report, "latest"),
                **_position_values(report, "furthest"),
                finished=finishes,
            )
            return ProgressWrite(_progress(record), applied=True)
        stored = _progress(record)
        # Ties keep what is stored: a report must be strictly newer to become latest, strictly
        # further to become furthest (the same report sent twice changes nothing).
        newer = report.updated_at > stored.latest.updated_at
        further = report.order > stored.furthest.order
        changes: dict[str, Any] = {}
        if newer:
            changes.update(_position_values(report, "latest"))
        if further:
            changes.update(_position_values(report, "furthest"))
            if finishes:
                changes["finished"] = True
        if changes:
            ProgressRecord.objects.filter(pk=record.pk).update(**changes)
        progress = Progress(
            user_id=user_id,
            book_id=book_id,
            latest=report if newer else stored.latest,
            furthest=report if further else stored.furthest,
            finished=stored.finished or (further and finishes),
        )
        return ProgressWrite(progress, applied=newer)

    def progress_get(self, *, user_id: int, book_id: str) -> Progress:
        try:
            return _progress(ProgressRecord.objects.get(user_id=user_id, book_id=book_id))
        except ProgressRecord.DoesNotExist:
            raise ProgressNotFound() from None

    def progress_delete(self, *, user_id: int, book_id: str) -> None:
        ProgressRecord.objects.filter(user_id=user_id, book_id=book_id).delete()

    def progress_list(
        self, *, user_id: int, limit: int, cursor: str | None = None
    ) -> Page[Progress]:
        rows, next_cursor = _page(
            ProgressRecord.objects.filter(user_id=user_id),
            _SHELF,
            kind=f"shelf:{user_id}",
            limit=limit,
            cursor=cursor,
        )
        return Page([_progress(r) for r in rows], next_cursor)

    # bookmarks

    def bookmark_create(self, bookmark: Bookmark, *, per_book_limit: int) -> Bookmark:
        mine: dict[str, Any] = {"user_id": bookmark.user_id, "book_id": bookmark.book_id}
        try:
            with transaction.atomic():
                BookmarkLockRecord.objects.get_or_create(**mine)
                BookmarkLockRecord.objects.select_for_update().get(**mine)
                if BookmarkRecord.objects.filter(**mine).count() >= per_book_limit:
                    raise BookmarkLimitReached()
                BookmarkRecord.objects.create(
                    id=bookmark.id,
                    **mine,
                    chapter_id=bookmark.chapter_id,
                    chapter_number=bookmark.chapter_number,
                    position_seconds=bookmark.position_seconds,
                    note=bookmark.note,
                    created_at=bookmark.created_at,
                    updated_at=bookmark.updated_at,
                    version=bookmark.version,
                )
        except IntegrityError:
            raise VersionConflict("A bookmark with this id already exists.") from None
        return bookmark

    def bookmark_get(self, *, user_id: int, bookmark_id: str) -> Bookmark:
        try:
            return _bookmark(BookmarkRecord.objects.get(pk=bookmark_id, user_id=user_id))
        except BookmarkRecord.DoesNotExist:
            raise BookmarkNotFound() from None

    def bookmark_update(self, bookmark: Bookmark, *, expected_version: int) -> Bookmark:
        mine = BookmarkRecord.objects.filter(pk=bookmark.id, user_id=bookmark.user_id)
        with transaction.atomic():
            changed = mine.filter(version=expected_version).update(
                **{name: getattr(bookmark, name) for name in _BOOKMARK_CHANGES},
                version=expected_version + 1,
            )
            if not changed:
                if not mine.exists():
                    raise BookmarkNotFound()
                raise VersionConflict()
            return _bookmark(mine.get())

    def bookmark_delete(self, *, user_id: int, bookmark_id: str) -> None:
        deleted, _ = BookmarkRecord.objects.filter(pk=bookmark_id, user_id=user_id).delete()
        if not deleted:
            raise BookmarkNotFound()

    def bookmark_list(
        self, *, user_id: int, book_id: str | None, limit: int, cursor: str | None = None
    ) -> Page[Bookmark]:
        queryset = BookmarkRecord.objects.filter(user_id=user_id)
        if book_id is None:
            order, kind = _NEWEST, f"bookmarks:{user_id}"
        else:
            queryset = queryset.filter(book_id=book_id)
            order, kind = _BOOK_ORDER, f"bookmarks:{user_id}:{book_id}"
        rows, next_cursor = _page(queryset, order, kind=kind, limit=limit, cursor=cursor)
        return Page([_bookmark(r) for r in rows], next_cursor)

    # deletions

    def book_forget(self, *, book_id: str) -> None:
        with transaction.atomic():
            for model in (ProgressRecord, BookmarkRecord, BookmarkLockRecord):
                model.objects.filter(book_id=book_id).delete()

    def user_forget(self, *, user_id: int) -> None:
        with transaction.atomic():
            for model in (ProgressRecord, BookmarkRecord, BookmarkLockRecord):
                model.objects.filter(user_id=user_id).delete()
