"""Upload grants: how long one lasts. Where it points and how it is signed is the store's
(streaming/stores.py): an S3 presigned POST, so audio never passes through Lambda, or the local
upload endpoint with an equivalent signed policy. Either way the client sends a
multipart/form-data POST of ``fields`` and then ``file`` to ``url``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings

from .storage import UploadGrant
from .stores import get_object_store


def upload_grant_create(
    *, key: str, content_type: str, base_url: str, max_bytes: int | None = None
) -> UploadGrant:
    """A grant for one object; at most ``max_bytes`` (VOJ_MAX_UPLOAD_BYTES, audio's limit,
    unless a smaller one is given: a cover's)."""
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(
        seconds=settings.VOJ_UPLOAD_GRANT_SECONDS
    )
    return get_object_store().upload_grant(
        key=key,
        content_type=content_type,
        max_bytes=max_bytes or settings.VOJ_MAX_UPLOAD_BYTES,
        expires_at=expires_at,
        base_url=base_url,
    )
