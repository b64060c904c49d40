"""What goes when a book or an account goes: nothing is left that a later list would trip
over. Called from the signals listening/apps.py connects."""

from __future__ import annotations

import logging

from listening.repository import get_listening_repository

logger = logging.getLogger("voj.listening")


def book_forget(*, book_id: str) -> None:
    """Every listener's progress and bookmarks in a deleted book."""
    get_listening_repository().book_forget(book_id=book_id)
    logger.info("listening forgot a deleted book", extra={"book_id": book_id})


def user_forget(*, user_id: int) -> None:
    """A deleted account's progress and bookmarks."""
    get_listening_repository().user_forget(user_id=user_id)
    logger.info("listening forgot a deleted account", extra={"user_id": user_id})
