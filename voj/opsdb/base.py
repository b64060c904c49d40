"""The ``voj.opsdb`` engine: Django's SQLite backend plus S3 synchronisation."""

from __future__ import annotations

import atexit
import weakref
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base as sqlite3

from voj.aws import aws_client

from .sync import OperatorDatabaseSync

# Every synchronisation built in this process, for restored(): one per operator database.
_built: weakref.WeakSet[OperatorDatabaseSync] = weakref.WeakSet()


@cache
def _sync_for(bucket: str, key: str, path: str) -> OperatorDatabaseSync:
    sync = OperatorDatabaseSync(
        client=aws_client("s3"),
        bucket=bucket,
        key=key,
        path=Path(path),
        refresh_seconds=getattr(settings, "VOJ_OPSDB_REFRESH_SECONDS", 5),
    )
    _built.add(sync)
    return sync


def restored() -> None:
    """After a snapshot restore: each operator database synchronised so far takes the process's
    S3 client and checks the file's freshness on its next connection (voj/snapstart.py). One
    never used before the snapshot is built on first use, as in any process."""
    for sync in list(_built):
        sync.restored(aws_client("s3"))


class DatabaseWrapper(sqlite3.DatabaseWrapper):
    """Each connection starts from the newest published file; writes are published by the
    middleware before the response leaves (so a conflict can be reported), or when the
    connection closes outside a request (management commands)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._published_changes = 0
        self._published_schema = 0
        self._atexit_registered = False

    @property
    def sync(self) -> OperatorDatabaseSync:
        return _sync_for(
            self.settings_dict["BUCKET"], self.settings_dict["KEY"], str(self.settings_dict["NAME"])
        )

    def get_new_connection(self, conn_params: dict) -> Any:
        self.sync.refresh()
        connection = super().get_new_connection(conn_params)
        self._published_changes = 0
        self._published_schema = _schema_version(connection)
        if not self._atexit_registered:
            atexit.register(self._publish_on_exit)
            self._atexit_registered = True
        return connection

    def has_unpublished_changes(self) -> bool:
        # total_changes counts rows written; DDL alone shows in the schema version.
        return self.connection is not None and (
            self.connection.total_changes > self._published_changes
            or _schema_version(self.connection) != self._published_schema
        )

    def _mark_published(self) -> None:
        self._published_changes = self.connection.total_changes
        self._published_schema = _schema_version(self.connection)

    def publish(self) -> None:
        """Publish this connection's changes; on a conflict the connection is closed so the
        next one opens the reloaded file."""
        if not self.has_unpublished_changes():
            return
        try:
            self.sync.publish()
        except Exception:
            self._mark_published()
            super().close()
            raise
        self._mark_published()

    def close(self) -> None:
        if self.has_unpublished_changes() and not self.in_atomic_block:
            self.publish()
        super().close()

    def _publish_on_exit(self) -> None:
        if self.has_unpublished_changes():
            self.publish()


def _schema_version(connection: Any) -> int:
    return connection.execute("PRAGMA schema_version").fetchone()[0]
