"""The catalogue's domain errors. Each class states its ``code``, the HTTP ``status_code`` the
API answers with and, for a 503, whether it is ``retryable`` (voj/exceptions.py says why each
must state them).

DomainError and the errors other apps raise too (StorageUnavailable) live in voj/exceptions.py;
they are imported here so the catalogue's code finds every error it handles in one place.
"""

from http import HTTPStatus

from voj.exceptions import DomainError, StorageUnavailable

__all__ = [
    "BookNotFound",
    "ChapterNotFound",
    "ChapterNotReady",
    "ChapterNumberTaken",
    "CoverCorrupt",
    "CoverNotAnImage",
    "CoverNotPending",
    "CoverTooLarge",
    "CoverTooSmall",
    "CoverUploadMissing",
    "DomainError",
    "InvalidCursor",
    "InvalidUpload",
    "NothingToPublish",
    "PermissionDenied",
    "RepositoryUnavailable",
    "StorageUnavailable",
    "UploadMissing",
    "UploadNotExpected",
    "VersionConflict",
]


class BookNotFound(DomainError):
    code = "book_not_found"
    status_code = HTTPStatus.NOT_FOUND
    message = "Book not found."


class ChapterNotFound(DomainError):
    code = "chapter_not_found"
    status_code = HTTPStatus.NOT_FOUND
    message = "Chapter not found."


class VersionConflict(DomainError):
    """The record changed since the caller read it; re-read and retry."""

    code = "version_conflict"
    status_code = HTTPStatus.CONFLICT
    message = "The record was changed by someone else; reload it and try again."


class ChapterNumberTaken(DomainError):
    code = "chapter_number_taken"
    status_code = HTTPStatus.CONFLICT
    message = "This book already has a chapter with that number."


class ChapterNotReady(DomainError):
    code = "chapter_not_ready"
    status_code = HTTPStatus.CONFLICT
    message = "The chapter is not ready for streaming."


class NothingToPublish(DomainError):
    code = "nothing_to_publish"
    status_code = HTTPStatus.CONFLICT
    message = "The book has no ready chapter to publish yet."


class UploadMissing(DomainError):
    code = "upload_missing"
    status_code = HTTPStatus.CONFLICT
    message = "No uploaded file was found for this chapter; upload it through the grant first."


class UploadNotExpected(DomainError):
    code = "upload_not_expected"
    status_code = HTTPStatus.CONFLICT
    message = "This chapter is not waiting for an upload."


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    status_code = HTTPStatus.BAD_REQUEST
    message = "The pagination cursor is invalid."


class PermissionDenied(DomainError):
    code = "permission_denied"
    status_code = HTTPStatus.FORBIDDEN
    message = "You do not have permission to perform this action."


class InvalidUpload(DomainError):
    code = "invalid_upload"
    status_code = HTTPStatus.BAD_REQUEST


class RepositoryUnavailable(DomainError):
    code = "repository_unavailable"
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    retryable = True
    message = "The catalogue store is unavailable; try again shortly."


class RepositoryBusy(RepositoryUnavailable):
    """Throttled, or cancelled by overlapping transactions, after retries with backoff."""

    code = "repository_busy"
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    retryable = True
    message = "The catalogue store is busy; try again shortly."


class ItemTooLarge(DomainError):
    code = "item_too_large"
    status_code = HTTPStatus.BAD_REQUEST
    message = "The record is too large to store."


class CoverNotPending(DomainError):
    code = "cover_not_pending"
    status_code = HTTPStatus.CONFLICT
    message = "No cover upload is waiting for this book; ask for a grant (POST .../cover) first."


class CoverUploadMissing(DomainError):
    code = "cover_upload_missing"
    status_code = HTTPStatus.CONFLICT
    message = "No uploaded image was found; upload it through the grant first."


# A cover refused at completion: 400 with the reason, the upload deleted, the book's cover kept.
class CoverTooSmall(DomainError):
    code = "cover_too_small"
    status_code = HTTPStatus.BAD_REQUEST
    message = "The image is too small for a cover."


class CoverTooLarge(DomainError):
    code = "cover_too_large"
    status_code = HTTPStatus.BAD_REQUEST
    message = "The image is too large for a cover."


class CoverNotAnImage(DomainError):
    code = "cover_not_an_image"
    status_code = HTTPStatus.BAD_REQUEST
    message = "The file is not a JPEG, PNG or WebP image."


class CoverCorrupt(DomainError):
    code = "cover_corrupt"
    status_code = HTTPStatus.BAD_REQUEST
    message = "The image is truncated or damaged."
