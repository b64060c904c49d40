"""Errors that more than one app raises (books and streaming both depend on voj, never on each
other's errors). Each class carries what the API answers for it: a ``code``, the HTTP
``status_code`` and whether the caller may simply try again (``retryable``: a 503 with
Retry-After). voj/errors.py renders them as ``{"detail", "code"}``; the console reads the same
attributes."""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar


class DomainError(Exception):
    """The base of every error the services raise on purpose.

    Every subclass states its own ``code`` and ``status_code`` in its class body, and a 503 also
    states ``retryable``: a subclass that inherited them would answer with its parent's status
    and code unnoticed (a new error silently answering 400, or a misconfiguration told to retry).
    """

    code: ClassVar[str] = "invalid"
    status_code: ClassVar[int] = HTTPStatus.BAD_REQUEST
    retryable: ClassVar[bool] = False
    message: str = "Invalid request."

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        declared = vars(cls)
        missing = [name for name in ("code", "status_code") if name not in declared]
        if missing:
            raise TypeError(f"{cls.__qualname__} must declare {' and '.join(missing)}")
        if not 400 <= cls.status_code < 600:
            raise TypeError(f"{cls.__qualname__}.status_code must be a 4xx or 5xx status")
        if cls.status_code == HTTPStatus.SERVICE_UNAVAILABLE and "retryable" not in declared:
            raise TypeError(f"{cls.__qualname__} answers 503 and must declare retryable")
        if cls.retryable and cls.status_code != HTTPStatus.SERVICE_UNAVAILABLE:
            raise TypeError(f"{cls.__qualname__} is retryable, so it must answer 503")

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class StorageUnavailable(DomainError):
    """The media store (S3, CloudFront) could not be reached or failed on its side: the caller
    may try again shortly."""

    code = "storage_unavailable"
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    retryable = True
    message = "The media store is unavailable; try again shortly."


class StorageMisconfigured(StorageUnavailable):
    """The media store answered, and the answer is a configuration mistake (no such bucket,
    access denied, wrong key): retrying will not help, an operator must fix it. The message
    names the cause (never the server's own text, which can carry ARNs or hosts)."""

    code = "storage_misconfigured"
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    retryable = False  # retrying cannot help: an operator must fix the configuration
    message = "The media store is misconfigured; an operator must fix it."

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(f"The media store is misconfigured: {cause}.")


# S3 error codes that name a configuration mistake, and what to check. A HEAD has no body, so
# its 403 arrives as the bare status.
_S3_CONFIGURATION_CAUSES = {
    "AccessDenied": "access denied (AccessDenied): check the credentials' permissions and the "
    "bucket policy",
    "403": "access denied (403): check the credentials' permissions and the bucket policy",
    "AllAccessDisabled": "access to the bucket is disabled (AllAccessDisabled)",
    "InvalidAccessKeyId": "the access key is unknown to the store (InvalidAccessKeyId): check "
    "the credentials",
    "SignatureDoesNotMatch": "the request signature is refused (SignatureDoesNotMatch): check "
    "the secret key, the region and the endpoint",
    "ExpiredToken": "the credentials have expired (ExpiredToken)",
    "InvalidToken": "the session token is invalid (InvalidToken)",
    "NoSuchBucket": "the bucket does not exist (NoSuchBucket): check VOJ_MEDIA_BUCKET and the "
    "S3 endpoint",
    "PermanentRedirect": "the bucket is in another region (PermanentRedirect): check "
    "VOJ_AWS_REGION",
    "AuthorizationHeaderMalformed": "the bucket is in another region "
    "(AuthorizationHeaderMalformed): check VOJ_AWS_REGION",
    "InvalidBucketName": "the bucket name is invalid (InvalidBucketName): check VOJ_MEDIA_BUCKET",
    "NotImplemented": "the store does not implement a request the application needs "
    "(NotImplemented): see docs/configuration.md for what an S3-compatible store must support",
    "KMS.DisabledException": "the bucket's KMS key is disabled (KMS.DisabledException)",
    "KMS.NotFoundException": "the bucket's KMS key does not exist (KMS.NotFoundException)",
}


def s3_configuration_cause(code: str) -> str | None:
    """What to fix, if an S3 error code is a configuration mistake rather than a passing fault."""
    return _S3_CONFIGURATION_CAUSES.get(code)


NO_SUCH_BUCKET = _S3_CONFIGURATION_CAUSES["NoSuchBucket"]
NO_CREDENTIALS = "no AWS credentials were found (NoCredentialsError)"
