"""The stream link's hand-built output is exactly what its documented serializer gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from books.serializers import StreamLinkOut, stream_link_data
from books.services import StreamLink


@pytest.mark.parametrize(
    "link",
    [
        StreamLink(
            url="https://cdn.example/media/a.m4a?Expires=1&Signature=x&Key-Pair-Id=K",
            expires_at=datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC),
            content_type="audio/mp4",
            size_bytes=9342,
            duration_seconds=2.046,
        ),
        StreamLink(
            url="http://localhost/stream/k?expires=2&signature=y",
            expires_at=datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=9))),
            content_type="video/mp4",
            size_bytes=100 * 1024 * 1024,
            duration_seconds=None,
        ),
        StreamLink(
            url="u",
            expires_at=datetime(2030, 6, 30, 23, 59, 59, 1, tzinfo=UTC),
            content_type="audio/x-m4a",
            size_bytes=1,
            duration_seconds=3,
        ),
    ],
)
def test_stream_link_data_is_the_serializer_s_output(link):
    assert stream_link_data(link) == StreamLinkOut(link).data
