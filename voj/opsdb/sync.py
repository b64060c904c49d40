"""Keeping one local SQLite file in step with its copy in S3."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from voj.exceptions import NO_CREDENTIALS, s3_configuration_cause

logger = logging.getLogger("voj.opsdb")

_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class OperatorDatabaseConflict(Exception):
    """Another container published first; the local change was discarded."""


class OperatorDatabaseUnavailable(Exception):
    """The bucket could not be reached, or refused the request; the message says which and,
    for a configuration mistake, what to fix."""


class OperatorDatabaseSync:
    def __init__(
        self, *, client: Any, bucket: str, key: str, path: Path, refresh_seconds: float = 5
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.path = Path(path)
        self.refresh_seconds = refresh_seconds
        self.etag: str | None = None  # of the S3 object the local file was last in step with
        self._checked_at = float("-inf")
        self._lock = threading.RLock()

    def _unavailable(self, action: str, error: Exception) -> OperatorDatabaseUnavailable:
        """Never botocore's bare text ("reached max retries"): what failed and why."""
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            why = s3_configuration_cause(code) or f"the store answered {code or 'an error'}"
        elif isinstance(error, NoCredentialsError):
            why = NO_CREDENTIALS
        else:
            why = f"the store could not be reached ({type(error).__name__})"
        return OperatorDatabaseUnavailable(
            f"cannot {action} the operator database s3://{self.bucket}/{self.key}: {why}"
        )

    def restored(self, client: Any) -> None:
        """In a process restored from a snapshot (voj/snapstart.py): the process's S3 client
        (the snapshot's, its credentials renewed, voj/aws.py), and the next connection asks S3
        again whether the file is current. The snapshot may be days old, and the monotonic
        clock it froze says nothing about the time since. The local file and its ETag stay: an
        unchanged file is not downloaded again."""
        with self._lock:
            self.client = client
            self._checked_at = float("-inf")

    def refresh(self, *, force: bool = False) -> bool:
        """Download the file if S3 has a newer one. Returns whether the local file changed."""
        with self._lock:
            if not force and time.monotonic() - self._checked_at < self.refresh_seconds:
                return False
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self.key)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
                    self._checked_at = time.monotonic()
                    return False  # nothing published yet: the first publish creates it
                raise self._unavailable("read", error) from error
            except BotoCoreError as error:
                raise self._unavailable("read", error) from error
            self._checked_at = time.monotonic()
            if head["ETag"] == self.etag and self.path.exists():
                return False
            self._download(head["ETag"])
            return True

    def _download(self, etag: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".opsdb-")
        os.close(fd)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)
            with open(tmp, "wb") as handle:
                for chunk in response["Body"].iter_chunks(1024 * 1024):
                    handle.write(chunk)
            os.replace(tmp, self.path)
        except (ClientError, BotoCoreError) as error:
            Path(tmp).unlink(missing_ok=True)
            raise self._unavailable("download", error) from error
        self.etag = response["ETag"]
        logger.info("operator database loaded", extra={"etag": self.etag})

    def publish(self) -> None:
        """Write the local file back, only over the version it was read from."""
        with self._lock:
            condition = {"IfMatch": self.etag} if self.etag else {"IfNoneMatch": "*"}
            try:
                with self.path.open("rb") as body:
                    response = self.client.put_object(
                        Bucket=self.bucket,
                        Key=self.key,
                        Body=body,
                        ContentType="application/vnd.sqlite3",
                        # Encrypted by the bucket's default (SSE-S3 in the stack), like
                        # every object of the application.
                        **condition,
                    )
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                status = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
                if code in _CONFLICT_CODES or status in _CONFLICT_CODES:
                    logger.warning("operator database write conflict; reloading")
                    self.refresh(force=True)
                    raise OperatorDatabaseConflict() from error
                raise self._unavailable("publish", error) from error
            except BotoCoreError as error:
                raise self._unavailable("publish", error) from error
            self.etag = response["ETag"]
            self._checked_at = time.monotonic()
            logger.info("operator database published", extra={"etag": self.etag})
