"""S3 mode: the private media bucket through django-storages and boto3.

Uploads arrive through presigned POSTs straight from the client (audio never passes through
Lambda). Completion reads object metadata and byte ranges only: ``storage.open()`` would
download the whole object. Playback is a CloudFront signed URL when the CDN is configured
(django-storages signs it), an S3 presigned GET otherwise.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.conf import settings

from voj.aws import aws_client, aws_session, client_options
from voj.exceptions import (
    NO_CREDENTIALS,
    NO_SUCH_BUCKET,
    StorageMisconfigured,
    StorageUnavailable,
    s3_configuration_cause,
)

from .storage import ObjectChanged, ObjectExists, ObjectInfo, UploadGrant

logger = logging.getLogger("voj.streaming")

READ_AHEAD = 64 * 1024
# A cover's presigned GET without a CDN: as long as the longest stream URL, so a listener's page
# of covers outlives a chapter played from it.
COVER_PRESIGNED_SECONDS = 12 * 60 * 60
_MISSING = {"404", "NoSuchKey", "NotFound"}
# What S3 answers a read or copy whose If-Match / x-amz-copy-source-if-match no longer holds
# (412), or whose object is gone by then.
_CHANGED = {"PreconditionFailed", "412", *_MISSING}
# Encryption under which an ETag is not the MD5 of the bytes (so a copy's differs).
_OPAQUE_ETAG_ENCRYPTION = {"aws:kms", "aws:kms:dsse"}


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _pinned[T](key: str, call: Callable[[], T]) -> T:
    """A conditional call on the object pinned by its ETag: a failed condition is ObjectChanged."""
    try:
        return _guarded(call)
    except ClientError as error:
        if _error_code(error) in _CHANGED:
            raise ObjectChanged(key) from error
        raise


def _guarded[T](call: Callable[[], T]) -> T:
    """Transport failures and S3's own 5xx become StorageUnavailable, configuration mistakes
    StorageMisconfigured naming the cause: both a 503 with a JSON body, never a 500."""
    try:
        return call()
    except ClientError as error:
        cause = s3_configuration_cause(_error_code(error))
        if cause:
            logger.error("media store misconfigured: %s", cause)
            raise StorageMisconfigured(cause) from error
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        # ConditionalRequestConflict (409): a concurrent conditional write; S3 asks to retry.
        if status >= 500 or _error_code(error) in {"SlowDown", "ConditionalRequestConflict"}:
            raise StorageUnavailable() from error
        raise
    except NoCredentialsError as error:
        logger.error("media store misconfigured: %s", NO_CREDENTIALS)
        raise StorageMisconfigured(NO_CREDENTIALS) from error
    except BotoCoreError as error:
        raise StorageUnavailable() from error


class S3RangeReader(io.RawIOBase):
    """A seekable reader over one object that fetches what is read with ranged GETs."""

    def __init__(self, client: Any, bucket: str, key: str, size: int, etag: str) -> None:
        super().__init__()
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._etag = etag
        self._pos = 0
        self._block_start = 0
        self._block = b""
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        size = min(size, self._size - self._pos)
        if size <= 0:
            return b""
        block_end = self._block_start + len(self._block)
        if not (self._block_start <= self._pos and self._pos + size <= block_end):
            self._fetch(self._pos, max(size, READ_AHEAD))
        offset = self._pos - self._block_start
        data = self._block[offset : offset + size]
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _fetch(self, start: int, length: int) -> None:
        end = min(start + length, self._size) - 1
        # If-Match: every range comes from the object that was measured, or S3 answers 412.
        response = _pinned(
            self._key,
            lambda: self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={start}-{end}", IfMatch=self._etag
            ),
        )
        self.requests += 1
        self._block_start = start
        self._block = response["Body"].read()


class S3ObjectStore:
    def __init__(self, *, storage: Any, client: Any = None, bucket: str) -> None:
        self.storage = storage
        self._client = client
        self.bucket = bucket

    @property
    def client(self) -> Any:
        """The S3 client, the process's (voj/aws.py) unless one was given: built on first use,
        as a stream URL signed by CloudFront needs none."""
        return self._client if self._client is not None else aws_client("s3")

    @classmethod
    def from_settings(cls) -> S3ObjectStore:
        return cls(storage=media_storage(), bucket=settings.VOJ_MEDIA_BUCKET)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = _guarded(lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        except ClientError as error:
            if _error_code(error) in _MISSING:
                return None
            raise
        return ObjectInfo(
            key=key,
            size=int(response["ContentLength"]),
            etag=response["ETag"],
            last_modified=response["LastModified"].astimezone(UTC),
            content_type=response.get("ContentType", "application/octet-stream"),
            metadata=response.get("Metadata", {}),
        )

    def open(self, key: str, *, size: int, etag: str) -> S3RangeReader:
        return S3RangeReader(self.client, self.bucket, key, size, etag)

    def copy(self, source: str, destination: str, *, etag: str) -> str:
        # Server-side: the bytes never leave S3. Objects here are at most 100 MB, well under
        # CopyObject's 5 GB limit. x-amz-copy-source-if-match: S3 copies the object that was
        # checked or nothing (412); If-None-Match: never over an object already published
        # (a concurrent completion's), which the same 412 reports.
        try:
            response = _pinned(
                source,
                lambda: self.client.copy_object(
                    Bucket=self.bucket,
                    Key=destination,
                    CopySource={"Bucket": self.bucket, "Key": source},
                    CopySourceIfMatch=etag,
                    IfNoneMatch="*",
                    MetadataDirective="COPY",
                ),
            )
        except ObjectChanged:
            if self.head(destination) is not None:
                raise ObjectExists(destination) from None
            raise
        copied = response["CopyObjectResult"]["ETag"]
        # A store that ignores the copy condition (moto does; AWS and SeaweedFS honour it) is
        # caught here: without KMS an ETag is the MD5 of the bytes, so another ETag is other
        # bytes (a multipart source's ETag is not an MD5; POST uploads never are multipart).
        # The copy is removed before any chapter points at it.
        opaque = (
            "-" in etag
            or response.get("ServerSideEncryption") in _OPAQUE_ETAG_ENCRYPTION
            or response.get("SSECustomerAlgorithm")
        )
        if not opaque and copied.strip('"') != etag.strip('"'):
            self.delete(destination)
            raise ObjectChanged(source)
        # Quoted, as HEAD gives it: SeaweedFS (4.48) leaves CopyObjectResult's ETag unquoted.
        return '"' + copied.strip('"') + '"'

    def delete(self, key: str) -> None:
        _guarded(lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    def ping(self) -> None:
        try:
            _guarded(lambda: self.client.head_bucket(Bucket=self.bucket))
        except ClientError as error:
            # HeadBucket has no body: a missing bucket is a bare 404.
            if _error_code(error) in _MISSING:
                raise StorageMisconfigured(NO_SUCH_BUCKET) from error
            raise

    def put(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        # Stored with the object, so S3 (and the CDN in front of it) answer every GET with them.
        _guarded(
            lambda: self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=cache_control,
            )
        )

    def upload_grant(
        self, *, key: str, content_type: str, max_bytes: int, expires_at: datetime, base_url: str
    ) -> UploadGrant:
        """An S3 presigned POST for one key: audio and images go straight to the bucket, never
        through Lambda. S3 itself enforces the policy: this key, this content type, at most
        ``max_bytes``, until expiry."""
        expires_in = max(1, int((expires_at - datetime.now(UTC)).total_seconds()))
        post = _guarded(
            lambda: self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", 1, max_bytes],
                ],
                ExpiresIn=expires_in,
            )
        )
        return UploadGrant(
            method="POST", url=post["url"], fields=post["fields"], expires_at=expires_at
        )

    def stream_url(self, *, key: str, expires_at: datetime, base_url: str) -> str:
        """A CloudFront signed URL when the storage has a CDN domain and signer, else an S3
        presigned GET; both through django-storages."""
        expire = max(1, int((expires_at - datetime.now(UTC)).total_seconds()))
        return self.storage.url(key, expire=expire)

    def public_url(self, *, key: str, base_url: str) -> str:
        """The CDN's unsigned URL (its covers/ behaviour trusts no key group, deploy/edge.yaml).
        Without a CDN the bucket is private and nothing public is in front of it: an S3
        presigned GET, the one way a viewer without credentials can read the object
        (docs/covers.md)."""
        if settings.VOJ_CDN_DOMAIN:
            return f"{settings.VOJ_CDN_URL_PROTOCOL}://{settings.VOJ_CDN_DOMAIN}/{quote(key)}"
        return str(
            _guarded(
                lambda: self.client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": self.bucket, "Key": key},
                    ExpiresIn=COVER_PRESIGNED_SECONDS,
                )
            )
        )


def media_storage() -> Any:
    """django-storages' S3 storage for the media bucket: private objects (no ACLs), the
    bucket's default encryption, and, with the CDN configured, CloudFront URL signing. Its
    client is built with client_options, on the process's one boto3 session."""
    # django-storages' S3 backend: about 90 ms at first import even with boto3 already loaded
    # (670 ms without), paid when the first stream URL is signed, not by every cold start.
    from storages.backends.s3 import S3Storage  # noqa: PLC0415 - ~90 ms cold, S3 store only

    class MediaStorage(S3Storage):
        # django-storages would start a boto3 session of its own, reloading botocore's data:
        # about 50 ms more on the first presigned GET of each Lambda container.
        def _create_session(self) -> Any:
            return aws_session()

    cdn = bool(settings.VOJ_CDN_DOMAIN)
    # The same endpoint, addressing style and signer as every other S3 client here (the
    # storage's own addressing_style and signature_version apply only without a config).
    options = client_options(
        "s3", region=settings.VOJ_AWS_REGION, shorthand=settings.VOJ_AWS_ENDPOINT_URL
    )
    return MediaStorage(
        bucket_name=settings.VOJ_MEDIA_BUCKET,
        region_name=options["region_name"],
        endpoint_url=options["endpoint_url"],
        client_config=options["config"],
        default_acl=None,
        # No ServerSideEncryption here or on the copy: objects take the bucket's default
        # encryption (SSE-S3 in deploy/stack.yaml), as browser uploads through the presigned
        # POST already do. An explicit AES256 would override a KMS default an operator chose
        # and fails on an S3-compatible store without SSE configured (SeaweedFS answers 500).
        object_parameters={},
        file_overwrite=True,
        querystring_auth=True,
        custom_domain=settings.VOJ_CDN_DOMAIN if cdn else None,
        # https on CloudFront; http only for the prod-like mode's local edge on 127.0.0.1.
        url_protocol=f"{settings.VOJ_CDN_URL_PROTOCOL}:",
        cloudfront_key_id=settings.VOJ_CDN_KEY_ID if cdn else None,
        cloudfront_key=settings.VOJ_CDN_PRIVATE_KEY.encode() if cdn else None,
    )
