"""The stored objects of records that are gone: deleted, and a failure only logged."""

from __future__ import annotations

import logging

from books.errors import StorageUnavailable
from streaming.stores import get_object_store

logger = logging.getLogger("voj.books")


def objects_delete(*, keys: list[str]) -> None:
    store = get_object_store()
    for key in filter(None, keys):
        try:
            store.delete(key)
        except (OSError, StorageUnavailable):
            # The record is already gone; a stray object is swept by the bucket lifecycle.
            logger.warning("object delete failed", extra={"key": key}, exc_info=True)
