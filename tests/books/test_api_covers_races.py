"""Cover completion racing other writes of the same book: the version-checked write keeps every
change and leaves no object that no book points at."""

from __future__ import annotations

import pytest

import books.services.covers
from streaming.stores import get_object_store
from tests.books.test_api_covers import cover_grant, cover_upload, fetch
from tests.helpers import book_create
from tests.images import image_bytes


@pytest.fixture
def during_render(monkeypatch):
    """Run a step while completion is between checking the image and saving the book."""
    steps = []
    render = books.services.covers.cover_render

    def render_then_step(data: bytes) -> bytes:
        out = render(data)
        while steps:
            steps.pop(0)()
        return out

    monkeypatch.setattr(books.services.covers, "cover_render", render_then_step)
    return steps.append


def covers_stored(book_id: str) -> list[str]:
    root = get_object_store().path(f"covers/books/{book_id}")  # type: ignore[attr-defined]
    return sorted(p.name for p in root.glob("*.jpg")) if root.exists() else []


def test_an_edit_during_completion_is_kept_and_the_cover_saved(backend, as_editor, during_render):
    book = book_create(as_editor)
    during_render(lambda: as_editor.patch(f"/api/v1/books/{book['id']}", {"title": "Renamed"}))
    done = cover_upload(as_editor, book["id"], image_bytes(400, 400))
    assert done.status_code == 200, done.content
    assert (done.json()["title"], done.json()["version"]) == ("Renamed", book["version"] + 3)
    assert len(covers_stored(book["id"])) == 1


def test_two_completions_of_one_upload_make_one_cover(backend, as_editor, during_render):
    book = book_create(as_editor)
    inner = []
    during_render(
        lambda: inner.append(as_editor.post(f"/api/v1/books/{book['id']}/cover/complete"))
    )
    outer = cover_upload(as_editor, book["id"], image_bytes(400, 400))
    assert inner[0].status_code == 200, inner[0].content
    assert (outer.status_code, outer.json()["code"]) == (409, "cover_not_pending")
    url = as_editor.get(f"/api/v1/books/{book['id']}").json()["cover_url"]
    assert url == inner[0].json()["cover_url"]
    assert fetch(url).status_code == 200
    # The loser's cover was deleted: the one stored is the book's.
    assert covers_stored(book["id"]) == [url.rsplit("/", 1)[1]]


def test_a_new_grant_during_completion_wins(backend, as_editor, during_render):
    book = book_create(as_editor)
    granted = []
    during_render(lambda: granted.append(cover_grant(as_editor, book["id"], b"x" * 10)))
    outer = cover_upload(as_editor, book["id"], image_bytes(400, 400))
    assert (outer.status_code, outer.json()["code"]) == (409, "cover_not_pending")
    after = as_editor.get(f"/api/v1/books/{book['id']}").json()
    assert after["cover_url"] is None
    assert covers_stored(book["id"]) == []
    # The new grant is the pending one: its upload completes.
    new = granted[0].json()["upload"]
    content = image_bytes(400, 400)
    assert as_editor.upload(new, content).status_code == 204
    done = as_editor.post(f"/api/v1/books/{book['id']}/cover/complete")
    assert done.status_code == 200, done.content


def test_a_book_deleted_during_completion_leaves_no_cover(backend, as_editor, during_render):
    book = book_create(as_editor)
    during_render(lambda: as_editor.delete(f"/api/v1/books/{book['id']}"))
    outer = cover_upload(as_editor, book["id"], image_bytes(400, 400))
    assert outer.status_code == 404
    assert covers_stored(book["id"]) == []
