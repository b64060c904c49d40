"""Request and response shapes of what listeners keep. Input types are strict: a number sent as
text, a boolean, a time without a zone are refused (400), never guessed at."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from books.converters import IdConverter
from books.serializers import CoverUrl, PageQuery, Text, WholeNumber
from listening.domain import Position, ProgressWrite


class Id(Text):
    """A book's or chapter's id, exactly (UUID-shaped, lower case): no other string names one."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        # The validator puts the pattern in the schema; the match below is the exact check
        # (a regex's "$" would also let a trailing newline through).
        super().__init__(validators=[RegexValidator(f"^{IdConverter.regex}$")], **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not re.fullmatch(IdConverter.regex, value):
            self.fail("invalid")
        return value


class Seconds(serializers.FloatField):
    """A place in a chapter: a JSON number (DRF's FloatField also takes "12" and true), finite
    (DRF refuses NaN and infinities; the JSON parser refuses their literals) and not negative."""

    default_error_messages = {"invalid": "A JSON number is required."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=0, **kwargs)

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:(?P<second>\d{2})(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
)


class Rfc3339(serializers.DateTimeField):
    """An RFC 3339 time with its offset (``Z`` or ``+09:00``): a device's time without a zone
    could be hours off. DRF's DateTimeField would take a naive time as the server's zone."""

    default_error_messages = {
        "invalid": "An RFC 3339 time with a time zone is required, e.g. 2026-01-31T08:15:00Z."
    }

    def to_internal_value(self, value: Any) -> datetime:
        match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.fail("invalid")
        text = value.upper()
        # A leap second (23:59:60, which RFC 3339 allows) is the next day's first instant.
        leap = match["second"] == "60"
        if leap:
            text = text[: match.start("second")] + "59" + text[match.end("second") :]
        try:
            parsed = datetime.fromisoformat(text) + timedelta(seconds=1 if leap else 0)
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):  # no such date; or past year 9999 in UTC
            self.fail("invalid")


class ProgressReportIn(serializers.Serializer):
    chapter_id = Id()
    position_seconds = Seconds()
    updated_at = Rfc3339(
        help_text="When the listener was at this position, by the device's clock (RFC 3339, "
        "with a time zone); at most 5 minutes ahead of the server's."
    )
    device = Text(max_length=100)


class ProgressBatchItemIn(ProgressReportIn):
    book_id = Id()


class ProgressBatchIn(serializers.Serializer):
    """The documented body of a batch. The view parses each item on its own (ProgressBatchItemIn)
    so that one bad item spoils none of the others."""

    items = serializers.ListField(child=ProgressBatchItemIn(), min_length=1, max_length=100)


class ProgressBatchEnvelopeIn(serializers.Serializer):
    items = serializers.ListField(min_length=1, max_length=100)


class PositionOut(serializers.Serializer):
    chapter_id = serializers.CharField()
    chapter_number = serializers.IntegerField()
    position_seconds = serializers.FloatField()
    updated_at = serializers.DateTimeField()
    device = serializers.CharField()


class ProgressOut(serializers.Serializer):
    book_id = serializers.CharField()
    latest = PositionOut()
    furthest = PositionOut()
    finished = serializers.BooleanField()


class ProgressWriteOut(ProgressOut):
    applied = serializers.BooleanField(
        help_text="Whether the report became latest: false for a report older than the latest."
    )


class ShelfItemOut(serializers.Serializer):
    """The progress answer, and the book's title and cover (listening.services.ShelfItem)."""

    book_id = serializers.CharField(source="progress.book_id")
    latest = PositionOut(source="progress.latest")
    furthest = PositionOut(source="progress.furthest")
    finished = serializers.BooleanField(source="progress.finished")
    book_title = serializers.CharField(source="book.title")
    cover_url = CoverUrl(source="book")


@extend_schema_field({"$ref": "#/components/schemas/ValidationError"})  # voj/schema.py
class ItemError(serializers.DictField):
    """An item's error as the API answers errors: detail, code and any invalid fields."""


class BatchItemErrorOut(serializers.Serializer):
    book_id = serializers.CharField(
        allow_null=True, help_text="The item's book_id, if it sent one as text."
    )
    error = ItemError()


class ProgressBatchOut(serializers.Serializer):
    """One result per item, in the order sent: the progress answer, or the item's error."""

    results = PolymorphicProxySerializer(
        component_name="ProgressBatchResult",
        serializers=[ProgressWriteOut, BatchItemErrorOut],
        resource_type_field_name=None,
        many=True,
    )


class BookmarkCreateIn(serializers.Serializer):
    book_id = Id()
    chapter_id = Id()
    position_seconds = Seconds()
    note = Text(max_length=1000, required=False, allow_blank=True, multiline=True)


class BookmarkUpdateIn(serializers.Serializer):
    chapter_id = Id(required=False)
    position_seconds = Seconds(required=False)
    note = Text(max_length=1000, required=False, allow_blank=True, multiline=True)
    version = WholeNumber(min_value=1, required=False)


class BookmarkListQuery(PageQuery):
    book_id = Id(required=False)


class BookmarkOut(serializers.Serializer):
    id = serializers.CharField()
    book_id = serializers.CharField()
    chapter_id = serializers.CharField()
    chapter_number = serializers.IntegerField()
    position_seconds = serializers.FloatField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def _position(position: Position) -> dict[str, Any]:
    return {
        "chapter_id": position.chapter_id,
        "chapter_number": int(position.chapter_number),
        "position_seconds": float(position.position_seconds),
        "updated_at": _time(position.updated_at),
        "device": position.device,
    }


def progress_write_data(write: ProgressWrite) -> dict[str, Any]:
    """ProgressWriteOut's output for the hot path (a progress report every 15-30 s from every
    playing device), built without a serializer instance, like books' stream_link_data; the
    schema still comes from ProgressWriteOut and tests/listening keep the two equal."""
    progress = write.progress
    return {
        "book_id": progress.book_id,
        "latest": _position(progress.latest),
        "furthest": _position(progress.furthest),
        "finished": bool(progress.finished),
        "applied": bool(write.applied),
    }
