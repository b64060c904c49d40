"""The object store's interface: what the rest of the code may ask of the store it was given.

A handful of operations on keys, each cheap in S3 (HEAD, ranged GET, server-side copy), and the
two things a client needs to reach the store itself: an upload grant and a stream URL. The
implementations are streaming/local_store.py (files, the embedded default) and streaming/s3.py;
streaming/stores.py chooses one, and that choice alone decides local-or-S3 for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class UploadGrant:
    """Where and how a client sends a chapter's bytes: the same protocol for every store, a
    multipart/form-data POST of ``fields`` and then ``file`` to ``url``."""

    method: str
    url: str
    fields: dict[str, str]
    expires_at: datetime


class ObjectChanged(Exception):
    """The object under a key is no longer the one pinned by its ETag: it was replaced (a new
    upload through a still-valid grant) or removed between two operations."""


class ObjectExists(Exception):
    """The destination of a copy already holds an object: copies never overwrite."""


class ObjectReader(Protocol):
    """A seekable reader of one object, closed after use: a local file, S3's ranged reader.
    It is also a streaming.media.Reader (read, seek, tell), restated here so the interface does
    not load the media checks at every cold start."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> None: ...


class ObjectStore(Protocol):
    def head(self, key: str) -> ObjectInfo | None: ...

    def open(self, key: str, *, size: int, etag: str) -> ObjectReader:
        """A seekable reader of the object ``head`` described (``size`` bytes, ``etag``);
        remote stores read ranges on demand, never the whole object. Every read is of that
        object or raises ObjectChanged."""
        ...

    def copy(self, source: str, destination: str, *, etag: str) -> str:
        """Copy the source object if it still has ``etag``, else raise ObjectChanged, and only
        to a free destination, else raise ObjectExists; return the ETag of the copy."""
        ...

    def delete(self, key: str) -> None: ...

    def ping(self) -> None: ...

    def put(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        """Store a small object the service made itself (a cover, at most a few hundred KB),
        with the headers every later GET of it answers with."""
        ...

    def upload_grant(
        self, *, key: str, content_type: str, max_bytes: int, expires_at: datetime, base_url: str
    ) -> UploadGrant:
        """A grant to upload one object under ``key``, of ``content_type`` and at most
        ``max_bytes``, until ``expires_at``; the store itself enforces it. ``base_url`` is this
        service's own address, for a store that receives uploads through it."""
        ...

    def public_url(self, *, key: str, base_url: str) -> str:
        """An unsigned, long-cacheable URL of a public object (a cover): the CDN's, or this
        service's own for a store that serves them itself."""
        ...

    def stream_url(self, *, key: str, expires_at: datetime, base_url: str) -> str:
        """A signed URL that plays the object (HTTP Range included) until ``expires_at``."""
        ...
