"""Checking a stored object against what its chapter says it should be."""

from __future__ import annotations

from .keys import ALLOWED_CONTENT_TYPES
from .media import MediaRejected, MediaReport, inspect_media
from .storage import ObjectInfo, ObjectStore


class ObjectMissing(Exception):
    pass


def object_verify(
    store: ObjectStore, key: str, *, expected_size: int, expected_content_type: str
) -> tuple[ObjectInfo, MediaReport]:
    """Size and type from the object's metadata, then the bytes themselves.

    Raises ObjectMissing when there is no object, MediaRejected with the reason when it is not
    what the chapter declared or not playable audio.
    """
    info = store.head(key)
    if info is None:
        raise ObjectMissing(key)
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
    with store.open(key) as reader:
        report = inspect_media(reader, info.size)
    return info, report
