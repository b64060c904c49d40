"""The object store this process uses: the one place that chooses local files or S3.

Everything that differs between the two follows from the store chosen here: where uploads go
(its upload grants), how audio is played (its stream URLs), and whether the local upload and
Range endpoints serve at all (only for the local store).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from .local_store import LocalObjectStore
from .storage import ObjectStore


def _stores_in_s3() -> bool:
    return settings.VOJ_STORAGE == "s3"


@cache
def get_object_store() -> ObjectStore:
    if _stores_in_s3():
        from .s3 import S3ObjectStore  # noqa: PLC0415 - ~15 ms cold (-X importtime), S3 mode only

        return S3ObjectStore.from_settings()
    return LocalObjectStore(settings.VOJ_MEDIA_ROOT)


def local_object_store() -> LocalObjectStore | None:
    """The store behind the local upload and Range endpoints, or None in S3 mode: there no grant
    or URL points at them, and they must not pass audio through Lambda."""
    if _stores_in_s3():
        return None  # without building the S3 store's clients for a request it will refuse
    store = get_object_store()
    return store if isinstance(store, LocalObjectStore) else None
