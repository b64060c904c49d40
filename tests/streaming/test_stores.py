"""Local files or S3 is decided once, by the store streaming/stores.py chooses: its grants, its
stream URLs and whether the local endpoints serve all follow from that choice."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streaming.local_store import LocalObjectStore
from streaming.stores import get_object_store, local_object_store

ROOT = Path(__file__).resolve().parents[2]
# Where VOJ_STORAGE may be read: the choice itself, its definition, and the detailed health
# check, which reports it without deciding anything.
READERS = {"streaming/stores.py", "voj/health.py"}


def test_only_the_store_choice_reads_voj_storage():
    readers = set()
    for package in ("voj", "books", "streaming", "listening"):
        for path in (ROOT / package).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if name.startswith("voj/settings/"):
                continue
            tree = ast.parse(path.read_text())
            if any(
                (isinstance(node, ast.Attribute) and node.attr == "VOJ_STORAGE")
                or (isinstance(node, ast.Constant) and node.value == "VOJ_STORAGE")
                for node in ast.walk(tree)
            ):
                readers.add(name)
    assert readers == READERS


def test_the_local_store_serves_the_local_endpoints(settings):
    settings.VOJ_STORAGE = "local"
    store = local_object_store()
    assert isinstance(store, LocalObjectStore) and store is get_object_store()
    expires_at = datetime.now(UTC) + timedelta(minutes=5)
    grant = store.upload_grant(
        key="uploads/k",
        content_type="audio/mp4",
        max_bytes=10,
        expires_at=expires_at,
        base_url="http://h/",
    )
    assert grant.url == "http://h/api/v1/uploads"
    url = store.stream_url(key="media/k", expires_at=expires_at, base_url="http://h")
    assert url.startswith("http://h/stream/media/k?expires=")


def test_with_s3_the_local_endpoints_are_closed_without_building_a_client(settings):
    settings.VOJ_STORAGE = "s3"
    assert local_object_store() is None
    assert get_object_store.cache_info().currsize == 0
