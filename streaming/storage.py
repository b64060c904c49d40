"""The object store's interface and its local implementation (the embedded default).

The rest of the code needs only a handful of operations on keys, and in S3 every one of them
must be cheap (HEAD, ranged GET, server-side copy), so that is the whole interface. The S3
implementation is streaming/s3.py; streaming/stores.py chooses one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self

from django.core.files.move import file_move_safe
from django.core.files.storage import FileSystemStorage

from .media import Reader

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str
    metadata: dict[str, str]


class ObjectChanged(Exception):
    """The object under a key is no longer the one pinned by its ETag: it was replaced (a new
    upload through a still-valid grant) or removed between two operations."""


class ObjectExists(Exception):
    """The destination of a copy already holds an object: copies never overwrite."""


class ObjectReader(Reader, Protocol):
    """A seekable reader of one object, closed after use: a local file, S3's ranged reader."""

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


class LocalObjectStore:
    """Objects as files under one root, with their metadata in a JSON file beside each."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # FileSystemStorage.path() refuses keys that escape the root.
        self._fs = FileSystemStorage(location=str(self.root))

    def path(self, key: str) -> Path:
        return Path(self._fs.path(key))

    def _meta_path(self, key: str) -> Path:
        path = self.path(key)
        return path.with_name(path.name + ".meta.json")

    def head(self, key: str) -> ObjectInfo | None:
        path = self.path(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        try:
            meta = json.loads(self._meta_path(key).read_text())
        except (FileNotFoundError, ValueError):
            meta = {}
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=_etag(stat),
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            content_type=meta.get("content_type", "application/octet-stream"),
            metadata=meta.get("metadata", {}),
        )

    def open(self, key: str, *, size: int, etag: str) -> BinaryIO:
        # A new upload replaces the file by a rename, so the open descriptor keeps reading the
        # pinned file whatever happens to the key afterwards.
        return self._open_pinned(key, etag)

    def _open_pinned(self, key: str, etag: str) -> BinaryIO:
        try:
            handle = self.path(key).open("rb")
        except FileNotFoundError:
            raise ObjectChanged(key) from None
        if _etag(os.fstat(handle.fileno())) != etag:
            handle.close()
            raise ObjectChanged(key)
        return handle

    def iter_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        with self.path(key).open("rb") as handle:
            handle.seek(start)
            remaining = length
            while remaining > 0:
                chunk = handle.read(min(CHUNK_SIZE, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    def put_file(self, key: str, path: str, *, content_type: str, metadata: dict[str, str]) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._write_meta(key, content_type, metadata)
        file_move_safe(path, str(target), allow_overwrite=True)

    def copy(self, source: str, destination: str, *, etag: str) -> str:
        target = self.path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        head = self.head(source)
        if head is None:
            raise ObjectChanged(source)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".copy-")
        try:
            with self._open_pinned(source, etag) as pinned, os.fdopen(fd, "wb") as copy:
                shutil.copyfileobj(pinned, copy, CHUNK_SIZE)
            try:
                os.link(tmp, target)  # never over an existing object (If-None-Match: *)
            except FileExistsError:
                raise ObjectExists(destination) from None
        finally:
            os.unlink(tmp)
        self._write_meta(destination, head.content_type, head.metadata)
        return _etag(target.stat())

    def delete(self, key: str) -> None:
        for path in (self.path(key), self._meta_path(key)):
            path.unlink(missing_ok=True)

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise PermissionError(f"object store root is not writable: {self.root}")

    def _write_meta(self, key: str, content_type: str, metadata: dict[str, str]) -> None:
        meta_path = self._meta_path(key)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(
            json.dumps({"content_type": content_type, "metadata": metadata}, ensure_ascii=False)
        )


def _etag(stat: os.stat_result) -> str:
    # The inode too: a new upload is a new file renamed over the key, even if it has the same
    # size and lands in the same nanosecond.
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}-{stat.st_ino:x}"'
