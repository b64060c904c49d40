"""What only the operator console does: check stored objects against their chapters, delete,
publish and unpublish a book; each recorded in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from books.domain import Book, Chapter, ChapterStatus
from books.repository import get_repository
from books.services.books import book_chapters, book_delete, book_publish, book_unpublish
from streaming.stores import get_object_store
from voj.audit import audit

if TYPE_CHECKING:
    from streaming.checks import CheckVerdict


def chapter_check(*, actor: Any, chapter_id: str) -> tuple[Chapter, CheckVerdict]:
    """Examine the chapter's stored object (ranges only) against what the chapter says."""
    repository = get_repository()
    # The console knows the chapter by id; the check then compares the object with the chapter
    # as stored now, not as the index last saw it.
    found = repository.chapter_find(chapter_id)
    return _chapter_verdict(actor, repository.chapter_get(found.book_id, found.id))


def book_check(*, actor: Any, book_id: str) -> list[tuple[Chapter, CheckVerdict]]:
    get_repository().book_get(book_id)
    return [_chapter_verdict(actor, chapter) for chapter in book_chapters(book_id=book_id)]


def book_delete_by_operator(*, actor: Any, book_id: str) -> None:
    _audited(actor, "book.delete", book_id, lambda: book_delete(user=actor, book_id=book_id))


def book_publish_by_operator(*, actor: Any, book_id: str) -> Book:
    return _audited(
        actor, "book.publish", book_id, lambda: book_publish(user=actor, book_id=book_id)
    )


def book_unpublish_by_operator(*, actor: Any, book_id: str) -> Book:
    return _audited(
        actor, "book.unpublish", book_id, lambda: book_unpublish(user=actor, book_id=book_id)
    )


def _audited[R](actor: Any, action: str, book_id: str, act: Callable[[], R]) -> R:
    try:
        result = act()
    except Exception as error:
        audit(actor, action, target=f"book:{book_id}", result=f"failed: {error}")
        raise
    audit(actor, action, target=f"book:{book_id}", result="ok")
    return result


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
    from streaming.checks import CheckVerdict, object_check  # noqa: PLC0415 - MP4 walker: 4-25 ms cold, checks only

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
