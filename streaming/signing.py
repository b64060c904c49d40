"""Short-lived stream URLs: CloudFront signed URLs, S3 presigned GETs, or local signed URLs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.signing import Signer
from django.utils.crypto import constant_time_compare

from voj.digits import is_ascii_digits

from .stores import get_object_store

if TYPE_CHECKING:
    from .s3 import S3ObjectStore

LOCAL_STREAM_PREFIX = "/stream/"
_signer = Signer(salt="voj.streaming.stream-url")


def stream_lifetime_seconds(duration_seconds: float | None) -> int:
    """Long enough to play the whole chapter (a player seeking near the end sends new Range
    requests, which an expired URL would refuse), within the configured floor and cap."""
    wanted = math.ceil(duration_seconds or 0) + settings.VOJ_STREAM_URL_MARGIN_SECONDS
    return max(
        settings.VOJ_STREAM_URL_MIN_SECONDS, min(wanted, settings.VOJ_STREAM_URL_MAX_SECONDS)
    )


def stream_expiry(duration_seconds: float | None, *, now: datetime | None = None) -> datetime:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    return now + timedelta(seconds=stream_lifetime_seconds(duration_seconds))


def _local_signature(key: str, expires: int) -> str:
    return _signer.signature(f"{key}\n{expires}")


def local_stream_url(*, key: str, expires_at: datetime, base_url: str) -> str:
    expires = int(expires_at.timestamp())
    query = urlencode({"expires": expires, "signature": _local_signature(key, expires)})
    return f"{base_url.rstrip('/')}{LOCAL_STREAM_PREFIX}{quote(key)}?{query}"


def local_stream_signature_valid(
    key: str, expires: str | None, signature: str | None, *, now: datetime | None = None
) -> bool:
    if not expires or not signature or not is_ascii_digits(expires):
        return False
    if int(expires) <= (now or datetime.now(UTC)).timestamp():
        return False
    return constant_time_compare(_local_signature(key, int(expires)), signature)


def stream_url_create(*, key: str, expires_at: datetime, base_url: str) -> str:
    if settings.VOJ_STORAGE == "s3":
        store = cast("S3ObjectStore", get_object_store())  # S3 mode: stores.py chose S3
        return store.stream_url(key=key, expires_at=expires_at)
    return local_stream_url(key=key, expires_at=expires_at, base_url=base_url)
