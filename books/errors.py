"""Domain errors. The API maps each ``code`` to an HTTP status (voj/errors.py)."""


class DomainError(Exception):
    code = "invalid"
    message = "Invalid request."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


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


class StorageUnavailable(DomainError):
    code = "storage_unavailable"
    message = "The media store is unavailable; try again shortly."


class RepositoryUnavailable(DomainError):
    code = "repository_unavailable"
    message = "The catalogue store is unavailable; try again shortly."


class RepositoryBusy(RepositoryUnavailable):
    """Throttled, or cancelled by overlapping transactions, after retries with backoff."""

    code = "repository_busy"
    message = "The catalogue store is busy; try again shortly."


class ItemTooLarge(DomainError):
    code = "item_too_large"
    message = "The record is too large to store."
