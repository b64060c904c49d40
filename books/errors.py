"""The catalogue's domain errors. The API maps each ``code`` to an HTTP status (voj/errors.py).

DomainError and the errors other apps raise too (StorageUnavailable) live in voj/exceptions.py;
they are imported here so the catalogue's code finds every error it handles in one place.
"""

from voj.exceptions import DomainError, StorageUnavailable

__all__ = [
    "BookNotFound",
    "ChapterNotFound",
    "ChapterNotReady",
    "ChapterNumberTaken",
    "DomainError",
    "InvalidCursor",
    "InvalidUpload",
    "PermissionDenied",
    "RepositoryUnavailable",
    "StorageUnavailable",
    "UploadMissing",
    "UploadNotExpected",
    "VersionConflict",
]


class BookNotFound(DomainError):
    code = "book_not_found"
    message = "Book not found."


class ChapterNotFound(DomainError):
    code = "chapter_not_found"
    message = "Chapter not found."


class VersionConflict(DomainError):
    """The record changed since the caller read it; re-read and retry."""

    code = "version_conflict"
    message = "The record was changed by someone else; reload it and try again."


class ChapterNumberTaken(DomainError):
    code = "chapter_number_taken"
    message = "This book already has a chapter with that number."


class ChapterNotReady(DomainError):
    code = "chapter_not_ready"
    message = "The chapter is not ready for streaming."


class UploadMissing(DomainError):
    code = "upload_missing"
    message = "No uploaded file was found for this chapter; upload it through the grant first."


class UploadNotExpected(DomainError):
    code = "upload_not_expected"
    message = "This chapter is not waiting for an upload."


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    message = "The pagination cursor is invalid."


class PermissionDenied(DomainError):
    code = "permission_denied"
    message = "You do not have permission to perform this action."


class InvalidUpload(DomainError):
    code = "invalid_upload"


class RepositoryUnavailable(DomainError):
    code = "repository_unavailable"
    message = "The catalogue store is unavailable; try again shortly."
