"""Request and response shapes of the catalogue API."""

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from books.domain import Book, BookStatus, ChapterStatus
from books.search_text import QUERY_MAX_LENGTH, query_words
from books.services.covers import book_cover_url
from voj.text import describe, disguising_character


class Text(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would also take 12 or 1.5 as text),
    without characters that hide or disguise what it reads as (voj/text.py); ``multiline``
    text may hold newlines and tabs."""

    default_error_messages = {
        "disguising": "Remove the invisible character {character}: it hides or disguises "
        "what the text reads as.",
    }

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        found = disguising_character(value, multiline=self.multiline)
        if found is not None:
            self.fail("disguising", character=describe(found))
        return value


class WholeNumber(serializers.IntegerField):
    """A JSON integer (1.0 counts, as in JSON Schema); DRF's IntegerField also takes "12"."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


class PageQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False)
    cursor = serializers.CharField(required=False, max_length=4000)


def cover_url_of(book: Book, context: Mapping[str, Any]) -> str | None:
    """The book's cover URL, absolute: the request in ``context`` gives this service's own
    address, which the local store's cover URLs are on."""
    request = context.get("request")
    base_url = request.build_absolute_uri("/") if request is not None else "/"
    return book_cover_url(book=book, base_url=base_url)


@extend_schema_field(
    serializers.URLField(
        allow_null=True,
        help_text="The cover (a JPEG, at most 600 px a side), unsigned and long-cacheable; "
        "null without a cover.",
    )
)
class CoverUrl(serializers.Field):
    """A book's ``cover_url``; the serializer's instance is the book (``source="*"``) or has it
    under ``source``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("source", "*")
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Book) -> str | None:
        return cover_url_of(value, self.context)


class SearchText(serializers.CharField):
    """A search: 1 to 100 characters as sent (the schema's maxLength; decomposed Hangul counts
    each jamo) with at least one letter or digit, the only things it matches."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        value = super().run_validation(data)
        if isinstance(value, str) and not query_words(value):
            raise serializers.ValidationError(
                "Search for at least one letter or digit.", code="no_words"
            )
        return value


class BookListQuery(PageQuery):
    q = SearchText(
        required=False,
        max_length=QUERY_MAX_LENGTH,
        help_text="Search titles and authors (docs/search.md): books matching every word, "
        "title matches first, then newest first. 1 to 100 characters.",
    )


class BookOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    author = serializers.CharField()
    description = serializers.CharField()
    language = serializers.CharField()
    owner = serializers.IntegerField()
    chapter_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[s.value for s in BookStatus])
    published_at = serializers.DateTimeField(allow_null=True)
    cover_url = CoverUrl()


class BookCreateIn(serializers.Serializer):
    title = Text(max_length=300)
    author = Text(max_length=300)
    description = Text(max_length=5000, required=False, allow_blank=True, multiline=True)
    language = serializers.RegexField(
        r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", max_length=35, required=False, allow_blank=True
    )


class BookUpdateIn(BookCreateIn):
    title = Text(max_length=300, required=False)
    author = Text(max_length=300, required=False)
    version = WholeNumber(min_value=1, required=False)


class ChapterOut(serializers.Serializer):
    id = serializers.CharField()
    book_id = serializers.CharField()
    number = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=[s.value for s in ChapterStatus])
    failure_reason = serializers.CharField()
    original_filename = serializers.CharField()
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    duration_seconds = serializers.FloatField(allow_null=True)
    faststart = serializers.BooleanField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class UploadIn(serializers.Serializer):
    filename = Text(max_length=1000)
    content_type = Text(max_length=100)
    size_bytes = WholeNumber()


class CoverUploadIn(UploadIn):
    """A cover's file: JPEG, PNG or WebP, at most VOJ_MAX_COVER_BYTES."""


class ChapterCreateIn(UploadIn):
    title = Text(max_length=300)
    number = WholeNumber(min_value=1, max_value=100_000, required=False)


class ChapterUpdateIn(serializers.Serializer):
    title = Text(max_length=300, required=False)
    number = WholeNumber(min_value=1, max_value=100_000, required=False)
    version = WholeNumber(min_value=1, required=False)


class UploadGrantOut(serializers.Serializer):
    method = serializers.CharField()
    url = serializers.CharField()
    # DRF's metaclass takes declared fields off the class: Serializer.fields is left intact.
    fields = serializers.DictField(child=serializers.CharField())  # type: ignore[assignment]
    expires_at = serializers.DateTimeField()


class CoverUploadOut(serializers.Serializer):
    upload = UploadGrantOut()


class ChapterWithUploadOut(serializers.Serializer):
    chapter = ChapterOut()
    upload = UploadGrantOut()


class StreamLinkOut(serializers.Serializer):
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    duration_seconds = serializers.FloatField(allow_null=True)


def stream_link_data(link: Any) -> dict[str, Any]:
    """StreamLinkOut's output for the listener's hot path, built without a serializer instance
    (DRF copies every declared field per instance: a twentieth of a warm stream-url). The
    schema still comes from StreamLinkOut; tests/books/test_serializers.py keeps the two
    equal."""
    expires_at = link.expires_at.astimezone(UTC).isoformat()
    return {
        "url": link.url,
        "expires_at": expires_at.removesuffix("+00:00") + "Z",
        "content_type": link.content_type,
        "size_bytes": int(link.size_bytes),
        "duration_seconds": (
            None if link.duration_seconds is None else float(link.duration_seconds)
        ),
    }
