"""Stream URL signing: lifetimes, the expiry boundary, and what the stream view refuses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from streaming.keys import media_key
from streaming.signing import (
    local_stream_signature_valid,
    local_stream_url,
    stream_expiry,
    stream_lifetime_seconds,
)
from streaming.stores import local_object_store
from tests.streaming.test_stream import get

KEY = media_key(str(uuid.uuid4()), str(uuid.uuid4()), "abc123")


def _signed(key: str, expires: int) -> tuple[str, str]:
    url = local_stream_url(
        key=key, expires_at=datetime.fromtimestamp(expires, UTC), base_url="http://testserver"
    )
    query = parse_qs(urlsplit(url).query)
    return query["expires"][0], query["signature"][0]


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        (None, 1800),  # no duration: the margin alone, above the floor
        (0, 1800),
        (10.2, 1811),  # rounded up, plus the margin
        (41_400, 43_200),  # exactly at the cap
        (41_401, 43_200),  # capped
        (100_000, 43_200),
    ],
)
def test_lifetime_covers_the_chapter_within_floor_and_cap(duration, seconds):
    assert stream_lifetime_seconds(duration) == seconds


def test_lifetime_floor(settings):
    settings.VOJ_STREAM_URL_MARGIN_SECONDS = 60
    settings.VOJ_STREAM_URL_MIN_SECONDS = 900
    assert stream_lifetime_seconds(None) == 900
    assert stream_lifetime_seconds(839) == 900
    assert stream_lifetime_seconds(841) == 901


def test_expiry_is_whole_seconds_after_now():
    now = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    assert stream_expiry(10, now=now) == datetime(2030, 1, 2, 3, 34, 15, tzinfo=UTC)


def test_expiry_is_aware_utc_by_default():
    assert stream_expiry(None).tzinfo is UTC


def test_the_url_keeps_the_base_host_whatever_it_ends_with():
    url = local_stream_url(key=KEY, expires_at=datetime.now(UTC), base_url="http://cdnX/")
    assert url.startswith(f"http://cdnX/stream/{KEY}?expires=")


def test_a_url_is_valid_until_the_second_it_expires():
    expires, signature = _signed(KEY, 2_000_000_000)
    at = datetime.fromtimestamp(2_000_000_000, UTC)
    assert local_stream_signature_valid(KEY, expires, signature, now=at - timedelta(seconds=1))
    assert local_stream_signature_valid(KEY, expires, signature, now=at - timedelta(microseconds=1))
    assert not local_stream_signature_valid(KEY, expires, signature, now=at)
    assert not local_stream_signature_valid(KEY, expires, signature, now=at + timedelta(seconds=1))


def test_the_signature_binds_key_and_expiry():
    expires, signature = _signed(KEY, 2_000_000_000)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert local_stream_signature_valid(KEY, expires, signature, now=now)
    assert not local_stream_signature_valid(KEY + "x", expires, signature, now=now)
    assert not local_stream_signature_valid(KEY, str(int(expires) + 1), signature, now=now)
    assert not local_stream_signature_valid(KEY, expires, signature[:-1] + "x", now=now)


@pytest.mark.parametrize(
    ("expires", "signature"),
    [(None, "sig"), ("", "sig"), ("abc", "sig"), ("-5", "sig"), ("1e10", "sig"), ("1", None)],
)
def test_malformed_parameters_are_invalid_not_errors(expires, signature):
    assert local_stream_signature_valid(KEY, expires, signature) is False


@pytest.fixture
def stored_key(db, tmp_path):
    """A media object on disk, so only the URL checks stand between a caller and it."""

    def store(key: str) -> str:
        source = tmp_path / "object"
        source.write_bytes(b"\0" * 64)
        local_object_store().put_file(key, str(source), content_type="audio/mp4", metadata={})
        return key

    return store


def _url(key: str, expires_at: datetime | None = None) -> str:
    expires_at = expires_at or datetime.now(UTC) + timedelta(minutes=5)
    return local_stream_url(key=key, expires_at=expires_at, base_url="http://testserver")


def test_a_good_url_serves_the_object(stored_key):
    assert get(_url(stored_key(KEY))).status_code == 200


@pytest.mark.parametrize(
    "query",
    ["expires=abc&signature={signature}", "signature={signature}", "expires={expires}"],
)
def test_a_malformed_or_partial_query_is_403(stored_key, query):
    expires, signature = _signed(stored_key(KEY), int(datetime.now(UTC).timestamp()) + 300)
    response = get(f"/stream/{KEY}?" + query.format(expires=expires, signature=signature))
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"


@pytest.mark.parametrize(
    "key",
    [
        # Validly signed, present on disk, but not a published media key: the key check alone
        # must refuse it (uploads are unverified; nothing else lives under /stream/).
        "uploads/" + "/".join(str(uuid.uuid4()) for _ in range(2)) + "/abc123",
        KEY.removesuffix(".m4a") + ".mp4",
        KEY.replace("chapters/", "chapters/x/"),
    ],
    ids=["upload", "other-extension", "extra-directory"],
)
def test_a_validly_signed_url_for_a_non_media_key_is_403(stored_key, key):
    response = get(_url(stored_key(key)))
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
