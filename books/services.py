"""Catalogue use cases. Views call these; these hold the rules and call the repository and
the object store."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from books.domain import Book, Chapter, ChapterStatus, Page, utcnow
from books.errors import (
    ChapterNotReady,
    ChapterNumberTaken,
    PermissionDenied,
    StorageUnavailable,
    UploadMissing,
    UploadNotExpected,
    VersionConflict,
)
from books.permissions import user_can_change_book, user_is_editor
from books.repository import get_repository
from streaming.keys import (
    ALLOWED_CONTENT_TYPES,
    ALLOWED_EXTENSIONS,
    clean_filename,
    has_allowed_extension,
    media_key,
    new_revision,
    upload_key,
)
from streaming.signing import stream_expiry
from streaming.storage import UploadGrant
from streaming.stores import get_object_store
from streaming.uploads import upload_grant_create
from voj.audit import audit

if TYPE_CHECKING:
    from streaming.checks import CheckVerdict

logger = logging.getLogger("voj.books")

_NUMBER_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class StreamLink:
    url: str
    expires_at: datetime
    content_type: str
    size_bytes: int
    duration_seconds: float | None


# --- books -----------------------------------------------------------------------------------


def book_create(
    *, user: Any, title: str, author: str, description: str = "", language: str = ""
) -> Book:
    if not user_is_editor(user):
        raise PermissionDenied("Only editors and staff can create books.")
    book = Book(
        title=title, author=author, description=description, language=language, owner=user.pk
    )
    return get_repository().book_create(book)


def book_get(*, book_id: str) -> Book:
    return get_repository().book_get(book_id)


def book_list(*, limit: int, cursor: str | None = None) -> Page[Book]:
    return get_repository().book_list(limit=limit, cursor=cursor)


def _book_for_change(user: Any, book_id: str) -> Book:
    book = get_repository().book_get(book_id)
    if not user_can_change_book(user, book):
        raise PermissionDenied("Only the book's owner or staff can change it.")
    return book


def book_update(*, user: Any, book_id: str, version: int | None = None, **changes: str) -> Book:
    book = _book_for_change(user, book_id)
    if version is not None and version != book.version:
        raise VersionConflict()
    updated = book.replace(**changes, updated_at=utcnow())
    return get_repository().book_update(updated, expected_version=book.version)


def book_delete(*, user: Any, book_id: str) -> None:
    _book_for_change(user, book_id)
    repository = get_repository()
    # The audio goes first: a delete that fails part-way keeps the chapters it has not reached
    # and DELETE again finishes it, but an object whose chapter had gone would stay for ever.
    listed = _chapters_all(book_id)
    _objects_delete([c.object_key for c in listed])
    chapters = repository.book_delete(book_id)
    known = {c.object_key for c in listed}
    _objects_delete([c.object_key for c in chapters if c.object_key not in known])
    logger.info("book deleted", extra={"book_id": book_id, "chapters": len(chapters)})


def _chapters_all(book_id: str) -> list[Chapter]:
    repository = get_repository()
    chapters: list[Chapter] = []
    cursor = None
    while True:
        page = repository.chapter_list(book_id, limit=100, cursor=cursor)
        chapters += page.items
        cursor = page.next_cursor
        if cursor is None:
            return chapters


# --- chapters --------------------------------------------------------------------------------


def _upload_fields_validate(*, filename: str, content_type: str, size_bytes: int) -> str:
    errors: dict[str, list[str]] = {}
    try:
        filename = clean_filename(filename)
    except ValueError:
        errors["filename"] = ["Give the file's name, for example chapter-01.m4a."]
    else:
        if not has_allowed_extension(filename):
            errors["filename"] = [f"Only {' and '.join(ALLOWED_EXTENSIONS)} files can be uploaded."]
    if content_type not in ALLOWED_CONTENT_TYPES:
        errors["content_type"] = [f"Must be one of {', '.join(ALLOWED_CONTENT_TYPES)}."]
    limit = settings.VOJ_MAX_UPLOAD_BYTES
    if not 1 <= size_bytes <= limit:
        errors["size_bytes"] = [f"Must be between 1 and {limit} bytes."]
    if errors:
        raise ValidationError(errors)
    return filename


def chapter_create(
    *,
    user: Any,
    book_id: str,
    title: str,
    filename: str,
    content_type: str,
    size_bytes: int,
    base_url: str,
    number: int | None = None,
) -> tuple[Chapter, UploadGrant]:
    repository = get_repository()
    _book_for_change(user, book_id)
    filename = _upload_fields_validate(
        filename=filename, content_type=content_type, size_bytes=size_bytes
    )
    revision = new_revision()
    for attempt in range(_NUMBER_ATTEMPTS):
        chapter_number = number or repository.chapter_last_number(book_id) + 1
        chapter = Chapter(
            book_id=book_id,
            number=chapter_number,
            title=title,
            original_filename=filename,
            content_type=content_type,
            size_bytes=size_bytes,
            revision=revision,
        )
        chapter = chapter.replace(object_key=upload_key(book_id, chapter.id, revision))
        try:
            chapter = repository.chapter_create(chapter)
            break
        except (ChapterNumberTaken, VersionConflict):
            # An explicit number is the caller's choice; a taken automatic one means another
            # chapter was just added, so take the next.
            if number is not None or attempt == _NUMBER_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # noqa: S311
    grant = upload_grant_create(
        key=chapter.object_key, content_type=content_type, base_url=base_url
    )
    return chapter, grant


def chapter_list(*, book_id: str, limit: int, cursor: str | None = None) -> Page[Chapter]:
    repository = get_repository()
    page = repository.chapter_list(book_id, limit=limit, cursor=cursor)
    if not page.items:
        # An empty first page may mean no such book: 404 rather than an empty list. A book
        # with chapters costs one request.
        repository.book_get(book_id)
    return page


def chapter_get(*, book_id: str, chapter_id: str) -> Chapter:
    return get_repository().chapter_get(book_id, chapter_id)


def _chapter_for_change(user: Any, book_id: str, chapter_id: str) -> Chapter:
    # Both from the table, consistently: a write never starts from an index that may lag.
    _book_for_change(user, book_id)
    return get_repository().chapter_get(book_id, chapter_id)


def chapter_update(
    *,
    user: Any,
    book_id: str,
    chapter_id: str,
    version: int | None = None,
    title: str | None = None,
    number: int | None = None,
) -> Chapter:
    chapter = _chapter_for_change(user, book_id, chapter_id)
    if version is not None and version != chapter.version:
        raise VersionConflict()
    changes: dict[str, Any] = {"updated_at": utcnow()}
    if title is not None:
        changes["title"] = title
    if number is not None:
        changes["number"] = number
    return get_repository().chapter_update(chapter.replace(**changes), previous=chapter)


def chapter_delete(*, user: Any, book_id: str, chapter_id: str) -> None:
    chapter = _chapter_for_change(user, book_id, chapter_id)
    get_repository().chapter_delete(chapter)
    _objects_delete([chapter.object_key])


def chapter_upload_renew(
    *,
    user: Any,
    book_id: str,
    chapter_id: str,
    filename: str,
    content_type: str,
    size_bytes: int,
    base_url: str,
) -> tuple[Chapter, UploadGrant]:
    """A fresh grant, for a new file, for a chapter still waiting for its audio or one whose
    upload failed (an expired grant, a rejected file)."""
    chapter = _chapter_for_change(user, book_id, chapter_id)
    if chapter.status not in (ChapterStatus.PENDING_UPLOAD, ChapterStatus.FAILED):
        raise UploadNotExpected("This chapter already has its audio; add a new chapter instead.")
    filename = _upload_fields_validate(
        filename=filename, content_type=content_type, size_bytes=size_bytes
    )
    revision = new_revision()
    renewed = chapter.replace(
        original_filename=filename,
        content_type=content_type,
        size_bytes=size_bytes,
        status=ChapterStatus.PENDING_UPLOAD,
        failure_reason="",
        revision=revision,
        object_key=upload_key(book_id, chapter.id, revision),
        object_etag="",
        duration_seconds=None,
        faststart=None,
        updated_at=utcnow(),
    )
    renewed = get_repository().chapter_update(renewed, previous=chapter)
    _objects_delete([chapter.object_key])
    grant = upload_grant_create(
        key=renewed.object_key, content_type=renewed.content_type, base_url=base_url
    )
    return renewed, grant


def chapter_complete(*, user: Any, book_id: str, chapter_id: str) -> Chapter:
    """Check the uploaded object and publish it: ready, or failed with the reason.

    The object is pinned by the ETag of its first HEAD: every range is read with If-Match on
    it and the copy to media/ carries x-amz-copy-source-if-match, so the bytes published are
    the bytes checked. An upload replaced meanwhile (the grant is still valid) is never
    published: the chapter fails and the editor uploads again with a fresh grant.

    Idempotent: a chapter that is already past its upload is returned as it is.
    """
    # The media checks load only where bytes are examined, not on every cold start.
    from streaming.checks import CHANGED_DURING_CHECK, ObjectMissing, object_verify
    from streaming.media import MediaRejected
    from streaming.storage import ObjectChanged, ObjectExists

    chapter = _chapter_for_change(user, book_id, chapter_id)
    if chapter.status != ChapterStatus.PENDING_UPLOAD:
        return chapter
    store = get_object_store()
    source = chapter.object_key
    target = media_key(book_id, chapter.id, chapter.revision)
    try:
        try:
            info, report = object_verify(
                store,
                source,
                expected_size=chapter.size_bytes,
                expected_content_type=chapter.content_type,
            )
            published_etag = store.copy(source, target, etag=info.etag)
        except (ObjectMissing, ObjectExists):
            # Published already: by a retry's earlier attempt that copied but did not save the
            # chapter, or by a concurrent completion. Copies never overwrite (only completion
            # writes under media/), so what is there was checked; check it again, pinned, and
            # record that object.
            try:
                info, report = object_verify(
                    store,
                    target,
                    expected_size=chapter.size_bytes,
                    expected_content_type=chapter.content_type,
                )
            except ObjectMissing:
                raise UploadMissing() from None
            published_etag = info.etag
    except (MediaRejected, ObjectChanged) as rejected:
        reason = rejected.reason if isinstance(rejected, MediaRejected) else CHANGED_DURING_CHECK
        failed = _chapter_save_outcome(chapter, status=ChapterStatus.FAILED, failure_reason=reason)
        _objects_delete([chapter.object_key])
        logger.info("chapter upload rejected", extra={"chapter_id": chapter.id, "reason": reason})
        return failed
    status = ChapterStatus.PROCESSING if settings.ENCODING_ENABLED else ChapterStatus.READY
    done = _chapter_save_outcome(
        chapter,
        status=status,
        object_key=target,
        object_etag=published_etag,
        duration_seconds=report.duration_seconds,
        faststart=report.faststart,
    )
    # The upload's key is dead from here on: the chapter left pending_upload and points at
    # media/, which no grant can write. A late upload through the still-valid grant lands
    # under uploads/, which nothing reads and the bucket's lifecycle sweeps.
    _objects_delete([source])
    return done


def _chapter_save_outcome(chapter: Chapter, **changes: Any) -> Chapter:
    try:
        return get_repository().chapter_update(
            chapter.replace(**changes, updated_at=utcnow()), previous=chapter
        )
    except VersionConflict:
        # A concurrent complete finished first: its outcome stands.
        current = get_repository().chapter_get(chapter.book_id, chapter.id)
        if current.status != ChapterStatus.PENDING_UPLOAD:
            return current
        raise


def chapter_stream(*, chapter_id: str, base_url: str) -> StreamLink:
    # The listener knows only the chapter id: the one read path served by the by-id index.
    chapter = get_repository().chapter_find(chapter_id)
    if chapter.status != ChapterStatus.READY:
        raise ChapterNotReady(f"The chapter is {chapter.status}, not ready for streaming.")
    return _stream_link(chapter, base_url)


def _stream_link(chapter: Chapter, base_url: str) -> StreamLink:
    expires_at = stream_expiry(chapter.duration_seconds)
    return StreamLink(
        url=get_object_store().stream_url(
            key=chapter.object_key, expires_at=expires_at, base_url=base_url
        ),
        expires_at=expires_at,
        content_type=chapter.content_type,
        size_bytes=chapter.size_bytes,
        duration_seconds=chapter.duration_seconds,
    )


def _objects_delete(keys: list[str]) -> None:
    store = get_object_store()
    for key in filter(None, keys):
        try:
            store.delete(key)
        except (OSError, StorageUnavailable):
            # The record is already gone; a stray object is swept by the bucket lifecycle.
            logger.warning("object delete failed", extra={"key": key}, exc_info=True)


# --- operator console ------------------------------------------------------------------------


def book_search(*, query: str, limit: int, cursor: str | None = None) -> Page[Book]:
    return get_repository().book_search(query=query, limit=limit, cursor=cursor)


def chapters_by_status(
    *, status: ChapterStatus, limit: int, cursor: str | None = None
) -> Page[Chapter]:
    return get_repository().chapters_by_status(status, limit=limit, cursor=cursor)


def chapter_find(*, chapter_id: str) -> Chapter:
    return get_repository().chapter_find(chapter_id)


def chapter_check(*, actor: Any, chapter_id: str) -> tuple[Chapter, CheckVerdict]:
    """Examine the chapter's stored object (ranges only) against what the chapter says."""
    repository = get_repository()
    # The console knows the chapter by id; the check then compares the object with the chapter
    # as stored now, not as the index last saw it.
    found = repository.chapter_find(chapter_id)
    return _chapter_verdict(actor, repository.chapter_get(found.book_id, found.id))


def _unchecked_reason(chapter: Chapter) -> str | None:
    """Why a chapter has no object to examine, or None when it should have one."""
    if chapter.status == ChapterStatus.PENDING_UPLOAD:
        return "not uploaded yet"
    if chapter.status == ChapterStatus.PROCESSING:
        return "still being processed"
    if chapter.status == ChapterStatus.FAILED:
        return f"the upload was rejected: {chapter.failure_reason or 'no reason recorded'}"
    return None


def _chapter_verdict(actor: Any, chapter: Chapter) -> tuple[Chapter, CheckVerdict]:
    from streaming.checks import CheckVerdict, object_check

    unchecked = _unchecked_reason(chapter)
    if unchecked is not None:
        verdict = CheckVerdict(ok=False, reason=unchecked, exists=False, checked=False)
    else:
        verdict = object_check(
            get_object_store(),
            chapter.object_key,
            expected_size=chapter.size_bytes,
            expected_content_type=chapter.content_type,
            expected_etag=chapter.object_etag,
        )
    if not verdict.checked:
        result = f"not checked: {verdict.reason}"
    else:
        result = "ok" if verdict.ok else f"failed: {verdict.reason}"
    audit(
        actor,
        "chapter.check",
        target=f"chapter:{chapter.id}",
        result=result,
        book_id=chapter.book_id,
    )
    return chapter, verdict


def book_check(*, actor: Any, book_id: str) -> list[tuple[Chapter, CheckVerdict]]:
    get_repository().book_get(book_id)
    return [_chapter_verdict(actor, chapter) for chapter in _chapters_all(book_id)]


def book_delete_by_operator(*, actor: Any, book_id: str) -> None:
    try:
        book_delete(user=actor, book_id=book_id)
    except Exception as error:
        audit(actor, "book.delete", target=f"book:{book_id}", result=f"failed: {error}")
        raise
    audit(actor, "book.delete", target=f"book:{book_id}", result="ok")


def chapter_preview_url(*, chapter: Chapter, base_url: str) -> str | None:
    if chapter.status != ChapterStatus.READY:
        return None
    return _stream_link(chapter, base_url).url
