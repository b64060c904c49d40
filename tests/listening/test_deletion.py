"""A deleted account takes its progress and bookmarks with it; a deleted book takes every
listener's. Nothing is left that a later list would trip over."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from listening.repository import get_listening_repository
from tests.conftest import Api
from tests.listening.steps import listenable_book, put_progress, report


def _keeps(user_id: int) -> tuple[int, int]:
    """How many progress and bookmark items the store keeps for an account (which may be gone:
    Django sets a deleted instance's pk to None, so callers keep the id)."""
    repository = get_listening_repository()
    progress = repository.progress_list(user_id=user_id, limit=100).items
    bookmarks = repository.bookmark_list(user_id=user_id, book_id=None, limit=100).items
    return len(progress), len(bookmarks)


def _listen(api: Api, book: dict, chapter: dict) -> None:
    put_progress(api, book, report(chapter, 0.5))
    body = {"book_id": book["id"], "chapter_id": chapter["id"], "position_seconds": 0.5}
    assert api.post("/api/v1/me/bookmarks", body).status_code == 201


@pytest.fixture
def second_listener(db) -> User:
    return User.objects.create_user("listener2", password="pw-listener-2")


def test_a_deleted_account_takes_its_own(
    backend, as_editor, listener, as_listener, second_listener, django_capture_on_commit_callbacks
):
    book, [chapter] = listenable_book(as_editor)
    _listen(as_listener, book, chapter)
    _listen(Api(second_listener), book, chapter)
    user_id = listener.pk
    assert _keeps(user_id) == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        listener.delete()
    assert _keeps(user_id) == (0, 0)
    assert _keeps(second_listener.pk) == (1, 1)


def test_an_account_deleted_in_the_console_takes_its_own(
    backend, as_editor, listener, as_listener, console, django_capture_on_commit_callbacks
):
    book, [chapter] = listenable_book(as_editor)
    _listen(as_listener, book, chapter)
    user_id = listener.pk
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(f"/admin/auth/user/{user_id}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content
    assert not User.objects.filter(pk=user_id).exists()
    assert _keeps(user_id) == (0, 0)


def test_a_deletion_rolled_back_takes_nothing(backend, as_editor, listener, as_listener):
    book, [chapter] = listenable_book(as_editor)
    _listen(as_listener, book, chapter)
    user_id = listener.pk
    # Inside the test's transaction, never committed: what waits for the commit never runs.
    listener.delete()
    assert _keeps(user_id) == (1, 1)


@pytest.mark.parametrize("where", ["api", "console"])
def test_a_deleted_book_takes_every_listener_s(
    backend, as_editor, listener, as_listener, second_listener, console, where
):
    book, [chapter] = listenable_book(as_editor)
    kept, [kept_chapter] = listenable_book(as_editor, title="Kept")
    as_second = Api(second_listener)
    for api in (as_listener, as_second):
        _listen(api, book, chapter)
        _listen(api, kept, kept_chapter)
    if where == "api":
        assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    else:
        response = console.post(f"/admin/catalogue/books/{book['id']}/delete/")
        assert response.status_code == 302
    for user in (listener, second_listener):
        assert _keeps(user.pk) == (1, 1)
    for api in (as_listener, as_second):
        shelf = api.get("/api/v1/me/progress").json()["results"]
        assert [item["book_id"] for item in shelf] == [kept["id"]]
        bookmarks = api.get("/api/v1/me/bookmarks").json()["results"]
        assert [b["book_id"] for b in bookmarks] == [kept["id"]]


@pytest.mark.parametrize("listing", ["/api/v1/me/progress", "/api/v1/me/bookmarks"])
def test_what_a_lagging_index_hid_from_a_book_delete_goes_at_the_next_list(
    dynamodb, as_editor, listener, as_listener, listing
):
    """The delete finds a book's listeners through listening's by-book index, which may lag:
    whatever it missed, the listener's next list finds gone and forgets."""
    from listening.repository.tables import BY_BOOK_INDEX
    from tests.books.test_dynamodb_faults import Fault

    book, [chapter] = listenable_book(as_editor)
    _listen(as_listener, book, chapter)
    lagging = Fault(
        "Query",
        lambda body: (
            (200, None, {"Items": [], "Count": 0, "ScannedCount": 0})
            if body.get("IndexName") == BY_BOOK_INDEX
            else None
        ),
    )
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    assert lagging.answered == 1 and _keeps(listener.pk) == (1, 1)  # missed while it lagged
    lagging.stop()

    assert as_listener.get(listing).json()["results"] == []
    assert _keeps(listener.pk) == (0, 0)
