"""What listening does when something it refers to goes (connected in listening/apps.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from listening import services


def user_deleted(sender: Any, instance: Any, using: str, **_: Any) -> None:
    """A deleted account's progress and bookmarks go once the deletion is committed: a deletion
    rolled back (on DynamoDB, which the transaction does not cover) must take nothing."""
    # A proxy of the user model sends its own class: compare the concrete model.
    if sender._meta.concrete_model is not get_user_model():
        return
    user_id = int(instance.pk)
    transaction.on_commit(lambda: services.user_forget(user_id=user_id), using=using)


def book_deleted(sender: Any, book_id: str, **_: Any) -> None:
    """Every listener's progress and bookmarks in a book that is gone (the catalogue sends this
    after the delete, from the API or the console)."""
    services.book_forget(book_id=book_id)
