"""A chapter's audio, from its upload grant to publication: a chapter is created (or renewed)
with a grant, the client uploads through it, and completion checks the object and publishes it.
"""

from __future__ import annotations

import logging
import random
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings

from books.domain import Chapter, ChapterStatus, utcnow
from books.errors import ChapterNumberTaken, UploadMissing, UploadNotExpected, VersionConflict
from books.repository import get_repository
from books.services.books import book_get_for_change
from books.services.chapters import chapter_get_for_change
from books.services.objects import objects_delete
from books.services.upload_fields import upload_fields_validate
from streaming.keys import (
    ALLOWED_CONTENT_TYPES,
    ALLOWED_EXTENSIONS,
    has_allowed_extension,
    media_key,
    new_revision,
    upload_key,
)
from streaming.storage import ObjectChanged, ObjectExists, ObjectInfo, ObjectStore, UploadGrant
from streaming.stores import get_object_store
from streaming.uploads import upload_grant_create

if TYPE_CHECKING:
    from streaming.media import MediaReport

logger = logging.getLogger("voj.books")

_NUMBER_ATTEMPTS = 20


def _upload_fields_validate(*, filename: str, content_type: str, size_bytes: int) -> str:
    return upload_fields_validate(
        filename=filename,
        content_type=content_type,
        size_bytes=size_bytes,
        name_allowed=has_allowed_extension,
        content_types=ALLOWED_CONTENT_TYPES,
        limit=settings.VOJ_MAX_UPLOAD_BYTES,
        example="chapter-01.m4a",
        name_rule=f"Only {' and '.join(ALLOWED_EXTENSIONS)} files can be uploaded.",
    )


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
    book_get_for_change(user=user, book_id=book_id)
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
    chapter = chapter_get_for_change(user=user, book_id=book_id, chapter_id=chapter_id)
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
    objects_delete(keys=[chapter.object_key])
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
    # The MP4 walker and its dataclasses (streaming.checks, streaming.media): 4-25 ms at first
    # import (-X importtime on the shared machine), paid only where bytes are examined.
    from streaming.checks import CHANGED_DURING_CHECK  # noqa: PLC0415 - 4-25 ms cold, completion only
    from streaming.media import MediaRejected  # noqa: PLC0415 - 4-25 ms cold, completion only

    chapter = chapter_get_for_change(user=user, book_id=book_id, chapter_id=chapter_id)
    if chapter.status != ChapterStatus.PENDING_UPLOAD:
        return chapter
    source = chapter.object_key
    target = media_key(book_id, chapter.id, chapter.revision)
    try:
        report, published_etag = _publish_checked(get_object_store(), chapter, target)
    except (MediaRejected, ObjectChanged) as rejected:
        reason = rejected.reason if isinstance(rejected, MediaRejected) else CHANGED_DURING_CHECK
        failed = _chapter_save_outcome(chapter, status=ChapterStatus.FAILED, failure_reason=reason)
        objects_delete(keys=[source])
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
    objects_delete(keys=[source])
    return done


def _publish_checked(store: ObjectStore, chapter: Chapter, target: str) -> tuple[MediaReport, str]:
    """Check the chapter's upload and copy it to ``target``; the report and the published
    ETag. Raises MediaRejected or ObjectChanged when the upload may not be published."""
    from streaming.checks import ObjectMissing, object_verify  # noqa: PLC0415 - 4-25 ms cold, completion only

    def verify(key: str) -> tuple[ObjectInfo, MediaReport]:
        return object_verify(
            store,
            key,
            expected_size=chapter.size_bytes,
            expected_content_type=chapter.content_type,
        )

    try:
        info, report = verify(chapter.object_key)
        return report, store.copy(chapter.object_key, target, etag=info.etag)
    except (ObjectMissing, ObjectExists):
        # Published already: by a retry's earlier attempt that copied but did not save the
        # chapter, or by a concurrent completion. Copies never overwrite (only completion
        # writes under media/), so what is there was checked; check it again, pinned, and
        # record that object.
        try:
            info, report = verify(target)
        except ObjectMissing:
            raise UploadMissing() from None
        return report, info.etag


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
