"""A book's cover: granted, uploaded and completed like a chapter's audio, then served unsigned.

The upload goes straight to the store through the grant (a presigned POST in production, at most
VOJ_MAX_COVER_BYTES). Completion reads it back, checks it by decoding it
(streaming/cover_images.py) and stores the listener's JPEG under a new immutable key; only once
the book points at it is the previous cover deleted. A refused upload is deleted and the book
keeps the cover it had. Cover URLs are unsigned: docs/covers.md says why.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from books.domain import Book, utcnow
from books.errors import (
    BookNotFound,
    CoverCorrupt,
    CoverNotAnImage,
    CoverNotPending,
    CoverTooLarge,
    CoverTooSmall,
    CoverUploadMissing,
    VersionConflict,
)
from books.repository import get_repository
from books.services.books import book_get_for_change
from books.services.objects import objects_delete
from books.services.upload_fields import upload_fields_validate
from streaming.cover_images import (
    COVER_CACHE_CONTROL,
    COVER_CONTENT_TYPE,
    CoverRejected,
    cover_render,
)
from streaming.keys import (
    COVER_CONTENT_TYPES,
    COVER_EXTENSIONS,
    cover_key,
    cover_upload_key,
    has_cover_extension,
    new_cover_revision,
)
from streaming.storage import ObjectChanged, UploadGrant
from streaming.stores import get_object_store
from streaming.uploads import upload_grant_create

logger = logging.getLogger("voj.books")

_REFUSALS = {
    "too_small": CoverTooSmall,
    "too_large": CoverTooLarge,
    "not_an_image": CoverNotAnImage,
    "corrupt": CoverCorrupt,
}
# A completion's write races only edits of the same book (a title changed while the image was
# checked): it is tried again on the book as it is now, as long as the same upload is pending.
_WRITE_ATTEMPTS = 3


def _cover_fields_validate(*, filename: str, content_type: str, size_bytes: int) -> None:
    upload_fields_validate(
        filename=filename,
        content_type=content_type,
        size_bytes=size_bytes,
        name_allowed=has_cover_extension,
        content_types=COVER_CONTENT_TYPES,
        limit=settings.VOJ_MAX_COVER_BYTES,
        example="cover.jpg",
        name_rule=f"Only {', '.join(COVER_EXTENSIONS)} images can be covers.",
    )


def book_cover_grant(
    *, user: Any, book_id: str, filename: str, content_type: str, size_bytes: int, base_url: str
) -> UploadGrant:
    """A grant to upload the book's new cover; the book records where it will land, so that
    completion knows what to check. A grant replaces any earlier one still pending."""
    book = book_get_for_change(user=user, book_id=book_id)
    _cover_fields_validate(filename=filename, content_type=content_type, size_bytes=size_bytes)
    key = cover_upload_key(book_id, new_cover_revision())
    get_repository().book_set_cover(
        book.replace(cover_upload_key=key, updated_at=utcnow()), expected_version=book.version
    )
    objects_delete(keys=[book.cover_upload_key])
    return upload_grant_create(
        key=key,
        content_type=content_type,
        base_url=base_url,
        max_bytes=settings.VOJ_MAX_COVER_BYTES,
    )


def book_cover_complete(*, user: Any, book_id: str) -> Book:
    """Check the pending upload and make it the book's cover; the book as it now is.

    Refused (400, the reason in the answer): the upload is deleted and the book keeps its
    cover; a grant still valid may be used again with another file.
    """
    book = book_get_for_change(user=user, book_id=book_id)
    upload = book.cover_upload_key
    if not upload:
        raise CoverNotPending()
    data = _upload_read(upload)
    try:
        jpeg = cover_render(data)
    except CoverRejected as rejected:
        objects_delete(keys=[upload])
        logger.info("cover upload rejected", extra={"book_id": book_id, "reason": rejected.reason})
        raise _REFUSALS[rejected.kind](rejected.reason) from None
    key = cover_key(book_id, new_cover_revision())
    get_object_store().put(
        key, jpeg, content_type=COVER_CONTENT_TYPE, cache_control=COVER_CACHE_CONTROL
    )
    try:
        done, previous = _cover_save(book, key)
    except (VersionConflict, BookNotFound, CoverNotPending):
        objects_delete(keys=[key])  # no book points at it
        raise
    # The book points at the new cover: the old one and the upload can go.
    objects_delete(keys=[upload, previous])
    return done


def _upload_read(key: str) -> bytes:
    """The uploaded bytes (at most VOJ_MAX_COVER_BYTES, which the grant enforced; checked
    again), read in one pinned GET."""
    store = get_object_store()
    info = store.head(key)
    if info is None:
        raise CoverUploadMissing()
    if info.size > settings.VOJ_MAX_COVER_BYTES:
        objects_delete(keys=[key])
        raise CoverTooLarge(f"The file is over {settings.VOJ_MAX_COVER_BYTES} bytes.")
    try:
        with store.open(key, size=info.size, etag=info.etag) as reader:
            return reader.read(info.size)
    except ObjectChanged:
        # Replaced or removed while it was read (a second upload through the same grant).
        raise CoverUploadMissing(
            "The uploaded image changed while it was checked; complete again."
        ) from None


def _cover_save(book: Book, key: str) -> tuple[Book, str]:
    """Point the book at the cover ``key`` and clear its pending upload, with a version-checked
    write; the book as stored and the cover key it had before."""
    repository = get_repository()
    upload = book.cover_upload_key
    for attempt in range(_WRITE_ATTEMPTS):
        try:
            saved = repository.book_set_cover(
                book.replace(cover_key=key, cover_upload_key="", updated_at=utcnow()),
                expected_version=book.version,
            )
            return saved, book.cover_key
        except VersionConflict:
            book = repository.book_get(book.id)
            # Another completion took this upload, or a new grant replaced it: this one lost.
            if book.cover_upload_key != upload:
                raise CoverNotPending() from None
            if attempt == _WRITE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def book_cover_delete(*, user: Any, book_id: str) -> None:
    """The book has no cover from now on (and no pending upload); its objects are deleted."""
    book = book_get_for_change(user=user, book_id=book_id)
    if not book.cover_key and not book.cover_upload_key:
        return
    get_repository().book_set_cover(
        book.replace(cover_key="", cover_upload_key="", updated_at=utcnow()),
        expected_version=book.version,
    )
    objects_delete(keys=[book.cover_key, book.cover_upload_key])


def book_cover_url(*, book: Book, base_url: str) -> str | None:
    """The cover's unsigned URL (None without a cover): whoever is given the book may see it."""
    if not book.cover_key:
        return None
    return get_object_store().public_url(key=book.cover_key, base_url=base_url)
