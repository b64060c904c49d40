"""Stream URLs and local Range serving, through HTTP."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from streaming.keys import media_key
from streaming.signing import local_stream_url
from streaming.stores import get_object_store
from tests.conftest import fixture_bytes
from tests.helpers import chapter_url, playable_chapter, published_chapter

M4A = fixture_bytes("tone-faststart.m4a")
SIZE = len(M4A)


@pytest.fixture
def link(backend, as_editor, as_listener):
    chapter = playable_chapter(as_editor)
    response = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url")
    assert response.status_code == 200
    return response.json()


def get(url: str, method: str = "get", **headers):
    parts = urlsplit(url)
    client = APIClient()
    return getattr(client, method)(
        parts.path,
        parse_qs(parts.query) and dict((k, v[0]) for k, v in parse_qs(parts.query).items()),
        **headers,
    )


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_stream_url_shape(link):
    assert link["content_type"] == "audio/mp4"
    assert link["size_bytes"] == SIZE
    assert link["duration_seconds"] == pytest.approx(2.046, abs=0.01)
    expires = datetime.fromisoformat(link["expires_at"])
    lifetime = (expires - datetime.now(UTC)).total_seconds()
    assert 15 * 60 - 5 <= lifetime <= 15 * 60 + 5 + 30 * 60
    assert "/stream/media/books/" in link["url"]


def test_full_get(link):
    response = get(link["url"])
    assert response.status_code == 200
    assert body(response) == M4A
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(SIZE)
    assert response["Content-Type"] == "audio/mp4"
    assert response["ETag"] and response["Last-Modified"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-127", 0, 127),
        ("bytes=100-", 100, SIZE - 1),
        ("bytes=-500", SIZE - 500, SIZE - 1),
        ("bytes=-999999", 0, SIZE - 1),
        (f"bytes={SIZE - 1}-{SIZE + 50}", SIZE - 1, SIZE - 1),
    ],
)
def test_ranges(link, header, start, end):
    response = get(link["url"], HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert response["Content-Length"] == str(end - start + 1)
    assert body(response) == M4A[start : end + 1]


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"])
def test_unsatisfiable(link, header):
    response = get(link["url"], HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert response.json()["code"] == "range_not_satisfiable"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-3", "bytes=-", "bytes", "bytes=1-2-3"])
def test_malformed_range(link, header):
    response = get(link["url"], HTTP_RANGE=header)
    assert response.status_code == 416
    assert response.json()["code"] == "invalid_range"


def test_other_units_and_multiple_ranges_get_the_whole_file(link):
    assert get(link["url"], HTTP_RANGE="items=0-5").status_code == 200
    assert get(link["url"], HTTP_RANGE="bytes=0-1,5-6").status_code == 200


def test_head(link):
    response = get(link["url"], method="head")
    assert response.status_code == 200
    assert response["Content-Length"] == str(SIZE)
    assert body(response) == b""
    ranged = get(link["url"], method="head", HTTP_RANGE="bytes=0-9")
    assert (ranged.status_code, ranged["Content-Range"]) == (206, f"bytes 0-9/{SIZE}")


def test_conditional_requests(link):
    etag = get(link["url"])["ETag"]
    assert get(link["url"], HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert get(link["url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag).status_code == 206
    assert get(link["url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"').status_code == 200


def test_tampered_url(link):
    url = link["url"]
    for forged in (
        url.replace("signature=", "signature=x"),
        url.replace("expires=", "expires=9"),
        url.split("?")[0],
        url.replace(".m4a", ".m4a.meta.json"),
    ):
        response = get(forged)
        assert response.status_code == 403, forged
        assert response.json()["code"] == "invalid_signature"


def test_expired_url(link):
    key = urlsplit(link["url"]).path.removeprefix("/stream/")
    url = local_stream_url(
        key=key, expires_at=datetime.now(UTC) - timedelta(seconds=1), base_url="http://testserver"
    )
    assert get(url).status_code == 403


def test_path_tricks_are_refused(db):
    url = local_stream_url(
        key="../../secret-key",
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
        base_url="http://testserver",
    )
    assert get(url).status_code in (403, 404)


def test_not_ready_chapter_has_no_stream_url(
    backend, as_editor, as_other_editor, as_operator, as_listener
):
    from tests.helpers import chapter_create

    # A pending chapter of a published book.
    book = {"id": playable_chapter(as_editor)["book_id"]}
    chapter = chapter_create(as_editor, book, size=10)["chapter"]
    url = f"/api/v1/audio/{chapter['id']}/stream-url"
    # Its owner and staff see the chapter, and are told why it does not play.
    for api in (as_editor, as_operator):
        response = api.get(url)
        assert (response.status_code, response.json()["code"]) == (409, "chapter_not_ready")
    # To anyone else it does not exist.
    for api in (as_listener, as_other_editor):
        response = api.get(url)
        assert (response.status_code, response.json()["code"]) == (404, "chapter_not_found")


def test_a_drafts_chapter_has_no_stream_url_but_for_its_owner_and_staff(
    backend, as_editor, as_other_editor, as_operator, as_listener
):
    chapter = published_chapter(as_editor)  # ready, in a draft
    url = f"/api/v1/audio/{chapter['id']}/stream-url"
    for api in (as_editor, as_operator):
        assert api.get(url).status_code == 200
    for api in (as_listener, as_other_editor):
        response = api.get(url)
        assert (response.status_code, response.json()["code"]) == (404, "chapter_not_found")


def test_stream_url_needs_a_token(backend, as_editor, anonymous):
    chapter = published_chapter(as_editor)
    assert anonymous.get(f"/api/v1/audio/{chapter['id']}/stream-url").status_code == 401


def test_a_chapter_named_with_its_book_streams_as_by_its_id(backend, as_editor, as_listener):
    chapter = playable_chapter(as_editor)
    by_id = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url").json()
    in_book = as_listener.get(chapter_url(chapter) + "/stream-url")
    assert in_book.status_code == 200
    link = in_book.json()
    assert {k: v for k, v in link.items() if k not in ("url", "expires_at")} == {
        k: v for k, v in by_id.items() if k not in ("url", "expires_at")
    }
    assert body(get(link["url"])) == M4A


def test_a_chapter_named_with_another_book_is_not_found(backend, as_editor, as_listener):
    chapter = playable_chapter(as_editor)
    other = playable_chapter(as_editor)
    for url in (
        f"/api/v1/books/{other['book_id']}/chapters/{chapter['id']}/stream-url",
        f"/api/v1/books/{chapter['id']}/chapters/{chapter['id']}/stream-url",
        f"/api/v1/books/{chapter['book_id']}/chapters/{chapter['book_id']}/stream-url",
    ):
        response = as_listener.get(url)
        assert (response.status_code, response.json()["code"]) == (404, "chapter_not_found"), url
    # Not an id at all: no route.
    response = as_listener.get(f"/api/v1/books/{chapter['book_id']}/chapters/nope/stream-url")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_stream_url_named_with_its_book_needs_a_current_token(backend, as_editor, anonymous):
    chapter = published_chapter(as_editor)
    response = anonymous.get(chapter_url(chapter) + "/stream-url")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


@pytest.mark.slow
def test_100_mb_range_serving_in_constant_memory(db, settings):
    key = media_key(
        "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", "abcdef12"
    )
    store = get_object_store()
    path = store.path(key)
    path.parent.mkdir(parents=True)
    size = 100 * 1024 * 1024
    with path.open("wb") as handle:
        handle.truncate(size)
    url = local_stream_url(
        key=key, expires_at=datetime.now(UTC) + timedelta(minutes=5), base_url="http://testserver"
    )
    tracemalloc.start()
    try:
        response = get(url, HTTP_RANGE="bytes=1000-")
        total = sum(len(chunk) for chunk in response.streaming_content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 206
    assert total == size - 1000
    assert peak < 4 * 1024 * 1024, f"peak Python memory {peak} bytes"


def test_stream_url_reads_no_user_from_the_operator_database(backend, as_editor, as_listener):
    """The listener's hot path checks the token without the user's row, so a cold start never
    downloads the operator database for it (docs/performance.md). (The sql backend keeps the
    catalogue and the security state in the same database: its three queries are the
    chapter's, its book's and the account-change record's.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    chapter = playable_chapter(as_editor)
    with CaptureQueriesContext(connection) as queries:
        response = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url")
    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "auth_" in q["sql"]]
    assert len(queries) == (3 if backend == "sql" else 0)


@pytest.mark.parametrize("token", ["not-a-jwt", "e30.e30.e30", ""])
def test_stream_url_refuses_a_bad_token(backend, as_editor, token):
    chapter = published_chapter(as_editor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(f"/api/v1/audio/{chapter['id']}/stream-url")
    assert response.status_code == 401
    assert "code" in response.json()


def test_stream_url_refuses_a_token_signed_with_another_key(backend, as_editor, listener):
    import jwt
    from rest_framework_simplejwt.tokens import AccessToken

    chapter = published_chapter(as_editor)
    claims = dict(AccessToken.for_user(listener).payload)
    forged = jwt.encode(claims, "another-key-entirely-" * 3, algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get(f"/api/v1/audio/{chapter['id']}/stream-url").status_code == 401
