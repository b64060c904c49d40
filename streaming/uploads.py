"""Upload grants: where and how a client sends a chapter's bytes.

The protocol is the same everywhere: a multipart/form-data POST of ``fields`` and then
``file`` to ``url``. In S3 mode the grant is a presigned POST (audio never passes through
Lambda); in the embedded default it targets the local upload endpoint with an equivalent
signed policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from django.conf import settings

from .policy import SIGNATURE_FIELD, policy_encode
from .stores import get_object_store

if TYPE_CHECKING:
    from .s3 import S3ObjectStore

LOCAL_UPLOAD_PATH = "/api/v1/uploads"


@dataclass(frozen=True, slots=True)
class UploadGrant:
    method: str
    url: str
    fields: dict[str, str]
    expires_at: datetime


def upload_conditions(key: str, content_type: str) -> list:
    return [
        {"key": key},
        {"Content-Type": content_type},
        ["content-length-range", 1, settings.VOJ_MAX_UPLOAD_BYTES],
    ]


def upload_grant_create(*, key: str, content_type: str, base_url: str) -> UploadGrant:
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(
        seconds=settings.VOJ_UPLOAD_GRANT_SECONDS
    )
    if settings.VOJ_STORAGE == "s3":
        store = cast("S3ObjectStore", get_object_store())  # S3 mode: stores.py chose S3
        post = store.presigned_post(key=key, content_type=content_type, expires_at=expires_at)
        return UploadGrant(
            method="POST", url=post["url"], fields=post["fields"], expires_at=expires_at
        )
    policy, signature = policy_encode(
        expires_at=expires_at, conditions=upload_conditions(key, content_type)
    )
    return UploadGrant(
        method="POST",
        url=base_url.rstrip("/") + LOCAL_UPLOAD_PATH,
        fields={
            "key": key,
            "Content-Type": content_type,
            "policy": policy,
            SIGNATURE_FIELD: signature,
        },
        expires_at=expires_at,
    )
