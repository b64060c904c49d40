"""Checking a stored object against what its chapter says it should be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from .keys import ALLOWED_CONTENT_TYPES
from .media import MediaRejected, MediaReport, inspect_media
from .storage import ObjectChanged, ObjectInfo, ObjectStore

CHANGED_DURING_CHECK = "the upload changed while it was being checked; upload it again"


class ObjectMissing(Exception):
    pass


class _Found(TypedDict):
    exists: bool
    size: int
    content_type: str


def object_verify(
    store: ObjectStore, key: str, *, expected_size: int, expected_content_type: str
) -> tuple[ObjectInfo, MediaReport]:
    """Size and type from the object's metadata, then the bytes themselves.

    Every read is pinned to the ETag of the first HEAD (the returned ObjectInfo): publish that
    ETag and nothing else. Raises ObjectMissing when there is no object, MediaRejected with the
    reason when it is not what the chapter declared or not playable audio, ObjectChanged when it
    was replaced while it was being read.
    """
    info = store.head(key)
    if info is None:
        raise ObjectMissing(key)
    return info, _verify(store, info, expected_size, expected_content_type)


def _verify(
    store: ObjectStore, info: ObjectInfo, expected_size: int, expected_content_type: str
) -> MediaReport:
    if info.size != expected_size:
        raise MediaRejected(
            f"size mismatch: the upload has {info.size} bytes, {expected_size} were declared"
        )
    if info.content_type not in ALLOWED_CONTENT_TYPES or (
        expected_content_type and info.content_type != expected_content_type
    ):
        raise MediaRejected(
            f"content type mismatch: the upload is {info.content_type!r}, "
            f"{expected_content_type!r} was declared"
        )
    with store.open(info.key, size=info.size, etag=info.etag) as reader:
        return inspect_media(reader, info.size)


@dataclass(frozen=True, slots=True)
class CheckVerdict:
    """What the operator console shows for one stored object."""

    ok: bool
    reason: str
    exists: bool
    # False when the chapter has nothing to examine yet (pending, processing) or its upload was
    # rejected (a rejected upload is deleted by design): the reason is the chapter's own state.
    checked: bool = True
    size: int | None = None
    content_type: str | None = None
    duration_seconds: float | None = None
    faststart: bool | None = None
    brand: str | None = None
    codec: str | None = None


def object_check(
    store: ObjectStore,
    key: str,
    *,
    expected_size: int,
    expected_content_type: str,
    expected_etag: str = "",
) -> CheckVerdict:
    """object_verify as a verdict: never raises for a missing, bad or changed object.

    ``expected_etag`` is the ETag the chapter was published with: an object under the key with
    another one is not the object that was checked at completion, whatever it contains.
    """
    if not key:
        return CheckVerdict(ok=False, reason="the chapter has no object", exists=False)
    info = store.head(key)
    if info is None:
        return CheckVerdict(ok=False, reason=f"no object at {key}", exists=False)
    found: _Found = {"exists": True, "size": info.size, "content_type": info.content_type}
    if expected_etag and info.etag != expected_etag:
        return CheckVerdict(
            ok=False,
            reason=(
                f"the object is not the one published: ETag {info.etag}, published {expected_etag}"
            ),
            **found,
        )
    try:
        report = _verify(store, info, expected_size, expected_content_type)
    except MediaRejected as rejected:
        return CheckVerdict(ok=False, reason=rejected.reason, **found)
    except ObjectChanged:
        return CheckVerdict(
            ok=False, reason="the object changed while it was being checked", **found
        )
    verdict_reason = "" if report.faststart else "playable, but not faststart (moov after mdat)"
    return CheckVerdict(
        ok=True,
        reason=verdict_reason,
        exists=True,
        size=info.size,
        content_type=info.content_type,
        duration_seconds=report.duration_seconds,
        faststart=report.faststart,
        brand=report.brand,
        codec=report.codec,
    )
