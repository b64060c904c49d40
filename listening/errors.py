"""Errors of what listeners keep. Each states its ``code`` and HTTP ``status_code``
(voj/exceptions.py says why)."""

from http import HTTPStatus

from books.errors import BookNotFound, InvalidCursor, VersionConflict
from voj.exceptions import DomainError

__all__ = [
    "BookNotFound",
    "BookmarkLimitReached",
    "BookmarkNotFound",
    "InvalidCursor",
    "InvalidReport",
    "ProgressNotFound",
    "VersionConflict",
]


class ProgressNotFound(DomainError):
    code = "progress_not_found"
    status_code = HTTPStatus.NOT_FOUND
    message = "No progress recorded for this book."


class BookmarkNotFound(DomainError):
    code = "bookmark_not_found"
    status_code = HTTPStatus.NOT_FOUND
    message = "Bookmark not found."


class BookmarkLimitReached(DomainError):
    code = "bookmark_limit_reached"
    status_code = HTTPStatus.CONFLICT
    message = "You keep as many bookmarks in this book as allowed; delete one first."


class InvalidReport(DomainError):
    """A progress report or bookmark that points nowhere playable: each case has its own code
    (subclasses), so an app can tell them apart."""

    code = "invalid_report"
    status_code = HTTPStatus.BAD_REQUEST
    message = "Invalid position."


class ChapterNotPlayable(InvalidReport):
    code = "chapter_not_playable"
    status_code = HTTPStatus.BAD_REQUEST
    message = "The chapter is not a ready chapter of this book."


class PositionOutOfRange(InvalidReport):
    code = "position_out_of_range"
    status_code = HTTPStatus.BAD_REQUEST
    message = "The position is outside the chapter."


class ReportFromFuture(InvalidReport):
    code = "updated_at_in_future"
    status_code = HTTPStatus.BAD_REQUEST
    message = "updated_at is in the future; check the device's clock."
