"""The embedded default's object store: files under one root, and grants and stream URLs that
point at this service's own upload and Range endpoints (streaming/views.py), signed with the
project key."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.core.files.move import file_move_safe
from django.core.files.storage import FileSystemStorage

from .policy import SIGNATURE_FIELD, policy_encode
from .signing import local_stream_url
from .storage import ObjectChanged, ObjectExists, ObjectInfo, UploadGrant

CHUNK_SIZE = 64 * 1024
LOCAL_UPLOAD_PATH = "/api/v1/uploads"


LOCAL_COVER_PATH = "/"  # a cover's key (covers/...) is its path under the service's root


def upload_conditions(key: str, content_type: str, max_bytes: int | None = None) -> list[Any]:
    """The signed policy's conditions, as S3 words them for a presigned POST."""
    return [
        {"key": key},
        {"Content-Type": content_type},
        ["content-length-range", 1, max_bytes or settings.VOJ_MAX_UPLOAD_BYTES],
    ]


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

    def put(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._write_meta(key, content_type, {}, cache_control=cache_control)
        # Written beside and renamed over: a reader never sees half an object.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".put-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)

    def cache_control(self, key: str) -> str:
        """The Cache-Control ``put`` stored with the object ("" if none)."""
        try:
            meta = json.loads(self._meta_path(key).read_text())
        except (FileNotFoundError, ValueError):
            return ""
        return str(meta.get("cache_control", ""))

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

    def upload_grant(
        self, *, key: str, content_type: str, max_bytes: int, expires_at: datetime, base_url: str
    ) -> UploadGrant:
        policy, signature = policy_encode(
            expires_at=expires_at, conditions=upload_conditions(key, content_type, max_bytes)
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

    def stream_url(self, *, key: str, expires_at: datetime, base_url: str) -> str:
        return local_stream_url(key=key, expires_at=expires_at, base_url=base_url)

    def public_url(self, *, key: str, base_url: str) -> str:
        # Served by streaming.views.cover, which answers for covers/ keys only.
        return base_url.rstrip("/") + LOCAL_COVER_PATH + quote(key)

    def _write_meta(
        self, key: str, content_type: str, metadata: dict[str, str], *, cache_control: str = ""
    ) -> None:
        meta_path = self._meta_path(key)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {"content_type": content_type, "metadata": metadata}
        if cache_control:
            meta["cache_control"] = cache_control
        meta_path.write_text(json.dumps(meta, ensure_ascii=False))


def _etag(stat: os.stat_result) -> str:
    # The inode too: a new upload is a new file renamed over the key, even if it has the same
    # size and lands in the same nanosecond.
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}-{stat.st_ino:x}"'
