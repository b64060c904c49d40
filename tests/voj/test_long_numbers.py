"""Numbers of any length, wherever voj reads one from a request: each is bounded before it is
converted, so a number of thousands of digits is a 4xx (or read as "past the end"), never the
500 of Python's int() refusing more than 4,300 digits."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.conftest import fixture_bytes
from tests.helpers import playable_chapter
from tests.voj.test_hostile_input import _assert_json_error

HUGE = "9" * 5000
M4A = fixture_bytes("tone-faststart.m4a")


@pytest.fixture
def stream_link(db, as_editor, as_listener) -> str:
    chapter = playable_chapter(as_editor)
    response = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url")
    assert response.status_code == 200
    parts = urlsplit(response.json()["url"])
    return f"{parts.path}?{parts.query}"


def _served(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "header",
    [f"bytes=0-{HUGE}", f"bytes=0-{'9' * 20}", f"bytes=0-{'0' * 30}{len(M4A) - 1}"],
    ids=["5000-digit-end", "20-digit-end", "zero-padded-end"],
)
def test_a_range_ending_past_any_file_serves_to_its_end(stream_link, header):
    response = Client().get(stream_link, HTTP_RANGE=header)
    assert response.status_code == 206
    assert _served(response) == M4A
    assert response["Content-Range"] == f"bytes 0-{len(M4A) - 1}/{len(M4A)}"


def test_a_range_starting_past_any_file_is_a_416(stream_link):
    response = Client().get(stream_link, HTTP_RANGE=f"bytes={HUGE}-")
    _assert_json_error(response, 416)


def test_a_suffix_range_longer_than_any_file_serves_all_of_it(stream_link):
    response = Client().get(stream_link, HTTP_RANGE=f"bytes=-{HUGE}")
    assert response.status_code == 206
    assert _served(response) == M4A


def test_a_range_of_other_scripts_digits_is_refused(stream_link):
    response = Client().get(stream_link, HTTP_RANGE="bytes=\u0661-\u0662")
    _assert_json_error(response, 416, "invalid_range")


def test_a_stream_url_with_a_5000_digit_expiry_is_a_403(stream_link):
    path, _, query = stream_link.partition("?")
    signature = dict(part.split("=", 1) for part in query.split("&"))["signature"]
    response = Client().get(f"{path}?expires={HUGE}&signature={signature}")
    _assert_json_error(response, 403, "invalid_signature")


@pytest.mark.django_db
@pytest.mark.parametrize("length", [HUGE, "9" * 20])
def test_a_content_length_of_too_many_digits_is_a_400(as_editor, length):
    for path in ("/api/v1/uploads", "/api/v1/books"):
        response = Client().post(
            path, b"{}", content_type="application/json", CONTENT_LENGTH=length, **as_editor.headers
        )
        _assert_json_error(response, 400, "invalid_length")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/books?limit={HUGE}",
        f"/api/v1/me/progress?limit={HUGE}",
        f"/api/v1/me/bookmarks?limit={HUGE}",
    ],
)
def test_a_5000_digit_query_number_is_a_field_error(as_listener, path):
    body = _assert_json_error(as_listener.get(path), 400)
    assert "limit" in str(body)


@pytest.mark.django_db
@pytest.mark.parametrize("number", [HUGE, "1e400", "-1e400", f"1{'0' * 400}.5"])
def test_huge_numbers_in_a_progress_report_are_a_400_and_change_nothing(
    as_editor, as_listener, number
):
    chapter = playable_chapter(as_editor)
    body = (
        f'{{"chapter_id": "{chapter["id"]}", "position_seconds": {number}, '
        '"updated_at": "2026-12-01T10:00:00Z", "device": "phone"}'
    ).encode()
    response = Client().put(
        f"/api/v1/me/progress/{chapter['book_id']}",
        body,
        content_type="application/json",
        **as_listener.headers,
    )
    _assert_json_error(response, 400)
    assert as_listener.get(f"/api/v1/me/progress/{chapter['book_id']}").status_code == 404
