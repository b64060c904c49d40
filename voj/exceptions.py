"""Errors that more than one app raises (books and streaming both depend on voj, never on each
other's errors). Each carries a ``code``; the API renders it as ``{"detail", "code"}`` with the
HTTP status voj/errors.py maps the code to."""


class DomainError(Exception):
    code = "invalid"
    message = "Invalid request."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class StorageUnavailable(DomainError):
    """The media store (S3, CloudFront) could not be reached or failed on its side: the caller
    may try again shortly."""

    code = "storage_unavailable"
    message = "The media store is unavailable; try again shortly."
