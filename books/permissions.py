"""Who may do what with the catalogue, and who may see what of it.

Visibility: a published book is everyone's; a draft is its owner's and staff's. Within a visible
book, ready chapters are everyone's; the others (pending, processing, failed) only the owner's
and staff's. So an editor sees their own drafts and every chapter of their own books, and only
the ready chapters of other editors' published books.

These take the request's user as it comes: a Django user, or the stateless token user of the
listener's hot paths (``voj.security.authentication.CurrentTokenAuthentication`` and its
``LaterAccountCheckAuthentication``), which carries
the account's id and nothing else (its ``is_staff`` is a token claim voj never sets). The common
answers need no database: a published book, a ready chapter, the owner. Only the rare rest
(staff looking at someone's draft) loads the account's row.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from books.domain import (
    EVERY_BOOK,
    PUBLISHED_BOOKS,
    Book,
    BookAccess,
    BookVisibility,
    Chapter,
    ChapterStatus,
)

EDITORS_GROUP = "editors"

# What visibility reads of a book: the whole book, or only its owner and status (BookAccess).
Seen = Book | BookAccess


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _account(user: Any) -> Any:
    """The user's row: the user itself when it is one, else loaded by id (None if gone)."""
    model = get_user_model()
    if isinstance(user, model):
        return user
    return model.objects.filter(pk=user.pk).first()


def _is_staff(user: Any) -> bool:
    account = _account(user)
    return bool(account is not None and account.is_active and account.is_staff)


def _owns(user: Any, book: Seen) -> bool:
    # The token user's id is the token's text claim; a Django user's is an int.
    return str(book.owner) == str(user.pk)


def user_owns_book(user: Any, book: Seen) -> bool:
    return _authenticated(user) and _owns(user, book)


def user_is_editor(user: Any) -> bool:
    if not _authenticated(user):
        return False
    account = _account(user)
    if account is None or not account.is_active:
        return False
    return bool(account.is_staff or account.groups.filter(name=EDITORS_GROUP).exists())


def user_can_change_book(user: Any, book: Book) -> bool:
    if not _authenticated(user):
        return False
    return _owns(user, book) or _is_staff(user)


# Django's model permissions: the operator groups an operator makes hold them, a superuser has
# them all, and a bare staff flag has none.
DELETE_BOOK = "books.delete_bookrecord"
DELETE_CHAPTER = "books.delete_chapterrecord"


def user_can_delete(user: Any, book: Book, *, permission: str) -> bool:
    """The owner deletes what is in their book; anyone else needs ``permission`` (being staff,
    which lets one see and change any book, is not enough to destroy one)."""
    if not _authenticated(user):
        return False
    if _owns(user, book):
        return True
    account = _account(user)
    return bool(
        account is not None
        and account.is_active
        and account.is_staff
        and account.has_perm(permission)
    )


def user_can_see_book(user: Any, book: Seen) -> bool:
    if book.is_published:
        return True
    if not _authenticated(user):
        return False
    return _owns(user, book) or _is_staff(user)


def user_sees_every_chapter(user: Any, book: Seen) -> bool:
    """Whether ``user`` sees the book's chapters that are not ready (its owner and staff)."""
    return _authenticated(user) and (_owns(user, book) or _is_staff(user))


def user_can_see_chapter(user: Any, book: Seen, chapter: Chapter) -> bool:
    if not user_can_see_book(user, book):
        return False
    return chapter.status == ChapterStatus.READY or user_sees_every_chapter(user, book)


def book_visibility(user: Any) -> BookVisibility:
    """The books ``user``'s lists show: staff every book; an editor the published ones and
    their own drafts; anyone else the published ones."""
    if not _authenticated(user):
        return PUBLISHED_BOOKS
    account = _account(user)
    if account is None or not account.is_active:
        return PUBLISHED_BOOKS
    if account.is_staff:
        return EVERY_BOOK
    if account.groups.filter(name=EDITORS_GROUP).exists():
        return BookVisibility(drafts_of=account.pk)
    return PUBLISHED_BOOKS
