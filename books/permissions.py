"""Who may do what with the catalogue."""

from __future__ import annotations

from typing import Any

from books.domain import Book

EDITORS_GROUP = "editors"


def user_is_editor(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.groups.filter(name=EDITORS_GROUP).exists())


def user_can_change_book(user: Any, book: Book) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or book.owner == user.pk)
