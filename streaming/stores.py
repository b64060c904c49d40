"""The object store this process uses: the one place that chooses local files or S3."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from .storage import LocalObjectStore, ObjectStore


def local_object_store() -> LocalObjectStore:
    """The embedded default's store, for its own upload and Range endpoints."""
    return LocalObjectStore(settings.VOJ_MEDIA_ROOT)


@cache
def get_object_store() -> ObjectStore:
    if settings.VOJ_STORAGE == "s3":
        # boto3 and django-storages load only in S3 mode, and only when first needed.
        from .s3 import S3ObjectStore

        return S3ObjectStore.from_settings()
    return local_object_store()
