"""Bookmarks through the HTTP API: each listener's own, in book order or newest first, limited
per book."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.listening.steps import DURATION, listenable_book, pending_chapter

BOOKMARKS = "/api/v1/me/bookmarks"


def _mark(api, book: dict, chapter: dict, position: float, status: int = 201, **fields) -> dict:
    body = {"book_id": book["id"], "chapter_id": chapter["id"], "position_seconds": position}
    response = api.post(BOOKMARKS, {**body, **fields})
    assert response.status_code == status, response.content
    return response.json()


def _positions(page: dict) -> list[tuple[int, float]]:
    return [(b["chapter_number"], b["position_seconds"]) for b in page["results"]]


def test_create_answers_the_bookmark(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    bookmark = _mark(as_listener, book, chapter, 1.5, note="  the storm begins ")
    assert set(bookmark) == {
        "id",
        "book_id",
        "chapter_id",
        "chapter_number",
        "position_seconds",
        "note",
        "created_at",
        "updated_at",
        "version",
    }
    assert bookmark["book_id"] == book["id"]
    assert bookmark["chapter_id"] == chapter["id"]
    assert bookmark["chapter_number"] == chapter["number"]
    assert bookmark["position_seconds"] == 1.5
    assert bookmark["note"] == "the storm begins"
    assert bookmark["version"] == 1
    assert datetime.fromisoformat(bookmark["created_at"]).tzinfo is not None
    assert _mark(as_listener, book, chapter, 0)["note"] == ""


def test_listed_in_book_order_or_newest_first(backend, as_editor, as_listener):
    book, [first, second] = listenable_book(as_editor, chapters=2)
    other, [other_chapter] = listenable_book(as_editor, title="Other")
    made = [
        _mark(as_listener, book, second, 0.5),
        _mark(as_listener, book, first, 1.5),
        _mark(as_listener, other, other_chapter, 1.0),
        _mark(as_listener, book, first, 0.25),
    ]
    in_book = as_listener.get(f"{BOOKMARKS}?book_id={book['id']}").json()
    assert _positions(in_book) == [(1, 0.25), (1, 1.5), (2, 0.5)]
    assert in_book["next"] is None
    page = as_listener.get(f"{BOOKMARKS}?book_id={book['id']}&limit=2").json()
    assert _positions(page) == [(1, 0.25), (1, 1.5)]
    assert _positions(as_listener.get(page["next"]).json()) == [(2, 0.5)]
    newest = as_listener.get(BOOKMARKS).json()
    assert [b["id"] for b in newest["results"]] == [b["id"] for b in reversed(made)]
    page = as_listener.get(f"{BOOKMARKS}?limit=3").json()
    rest = as_listener.get(page["next"]).json()
    assert [b["id"] for b in page["results"] + rest["results"]] == [b["id"] for b in reversed(made)]
    # Another listener sees none of them.
    assert as_editor.get(BOOKMARKS).json() == {"results": [], "next": None}
    assert as_editor.get(f"{BOOKMARKS}?book_id={book['id']}").json()["results"] == []


def test_update_note_and_place_with_versions(backend, as_editor, as_listener):
    book, [first, second] = listenable_book(as_editor, chapters=2)
    bookmark = _mark(as_listener, book, first, 1.0, note="old")
    url = f"{BOOKMARKS}/{bookmark['id']}"
    changed = as_listener.patch(url, {"note": "new", "version": 1})
    assert changed.status_code == 200, changed.content
    assert changed.json()["note"] == "new"
    assert changed.json()["version"] == 2
    assert changed.json()["position_seconds"] == 1.0
    assert changed.json()["created_at"] == bookmark["created_at"]
    stale = as_listener.patch(url, {"note": "lost", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    moved = as_listener.patch(url, {"chapter_id": second["id"], "position_seconds": 0.5}).json()
    assert (moved["chapter_id"], moved["chapter_number"]) == (second["id"], second["number"])
    assert moved["position_seconds"] == 0.5
    assert moved["note"] == "new"
    assert as_listener.patch(url, {"position_seconds": 0.75}).json()["position_seconds"] == 0.75
    cleared = as_listener.patch(url, {"note": ""}).json()
    assert cleared["note"] == ""
    assert cleared["version"] == 5
    assert as_listener.get(f"{BOOKMARKS}?book_id={book['id']}").json()["results"] == [cleared]


def test_bad_updates_are_refused(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    pending = pending_chapter(as_editor, book)
    url = f"{BOOKMARKS}/{_mark(as_listener, book, chapter, 1.0)['id']}"
    cases = [
        ({"position_seconds": DURATION + 1}, 400, "position_out_of_range"),
        ({"chapter_id": pending["id"]}, 400, "chapter_not_playable"),
        ({"position_seconds": "1"}, 400, "invalid"),
        ({"position_seconds": -1}, 400, "invalid"),
        ({"note": "x" * 1001}, 400, "invalid"),
        ({"version": "1"}, 400, "invalid"),
        ({"version": 0}, 400, "invalid"),
    ]
    for body, status, code in cases:
        response = as_listener.patch(url, body)
        assert (response.status_code, response.json()["code"]) == (status, code), body
    assert as_listener.get(BOOKMARKS).json()["results"][0]["version"] == 1


@pytest.mark.parametrize("position", [5e-324, 1e-200, 4e-7])
def test_a_place_below_a_microsecond_is_the_chapter_s_start(
    backend, as_editor, as_listener, position
):
    """Kept to the microsecond, as the book order sorts them: DynamoDB refuses a number below
    1e-130 (a 500 there before)."""
    book, [chapter] = listenable_book(as_editor)
    mark = _mark(as_listener, book, chapter, position)
    assert mark["position_seconds"] == 0.0
    moved = as_listener.patch(f"{BOOKMARKS}/{mark['id']}", {"position_seconds": position})
    assert moved.status_code == 200, moved.content
    assert moved.json()["position_seconds"] == 0.0


def test_another_listener_s_bookmark_is_404(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    url = f"{BOOKMARKS}/{_mark(as_listener, book, chapter, 1.0)['id']}"
    for response in (as_editor.patch(url, {"note": "mine"}), as_editor.delete(url)):
        assert response.status_code == 404
        assert response.json()["code"] == "bookmark_not_found"
    assert as_listener.get(BOOKMARKS).json()["results"][0]["note"] == ""


def test_delete_then_404(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    url = f"{BOOKMARKS}/{_mark(as_listener, book, chapter, 1.0)['id']}"
    assert as_listener.delete(url).status_code == 204
    assert as_listener.delete(url).status_code == 404
    assert as_listener.patch(url, {"note": "x"}).status_code == 404
    assert as_listener.get(BOOKMARKS).json()["results"] == []
    assert as_listener.delete(f"{BOOKMARKS}/not-an-id").status_code == 404


def test_the_per_book_limit_is_409(backend, settings, as_editor, as_listener):
    settings.VOJ_BOOKMARKS_PER_BOOK = 2
    book, [chapter] = listenable_book(as_editor)
    other, [other_chapter] = listenable_book(as_editor, title="Other")
    first = _mark(as_listener, book, chapter, 0.5)
    _mark(as_listener, book, chapter, 1.0)
    refused = _mark(as_listener, book, chapter, 1.5, status=409)
    assert refused["code"] == "bookmark_limit_reached"
    _mark(as_listener, other, other_chapter, 0.5)  # per book
    _mark(as_editor, book, chapter, 0.5)  # per listener
    assert as_listener.delete(f"{BOOKMARKS}/{first['id']}").status_code == 204
    _mark(as_listener, book, chapter, 1.5)


def test_unknown_book_is_404(backend, as_editor, as_listener):
    _, [chapter] = listenable_book(as_editor)
    unknown = {"id": "00000000-0000-4000-8000-000000000000"}
    assert _mark(as_listener, unknown, chapter, 0.5, status=404)["code"] == "book_not_found"
    response = as_listener.get(f"{BOOKMARKS}?book_id={unknown['id']}")
    assert response.status_code == 404
    assert response.json()["code"] == "book_not_found"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"position_seconds": DURATION + 0.01}, "position_out_of_range"),
        ({"chapter_id": "00000000-0000-4000-8000-000000000000"}, "chapter_not_playable"),
        ({"position_seconds": -0.5}, "invalid"),
        ({"position_seconds": "1"}, "invalid"),
        ({"position_seconds": False}, "invalid"),
        ({"note": "x" * 1001}, "invalid"),
        ({"note": 5}, "invalid"),
        ({"book_id": "book"}, "invalid"),
        ({"chapter_id": None}, "invalid"),
    ],
)
def test_bad_bookmarks_are_400(db, as_editor, as_listener, change, code):
    book, [chapter] = listenable_book(as_editor)
    body = {"book_id": book["id"], "chapter_id": chapter["id"], "position_seconds": 1.0}
    response = as_listener.post(BOOKMARKS, {**body, **change})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code


def test_a_pending_chapter_cannot_be_bookmarked(db, as_editor, as_listener):
    book, _ = listenable_book(as_editor)
    pending = pending_chapter(as_editor, book)
    assert _mark(as_listener, book, pending, 0.0, status=400)["code"] == "chapter_not_playable"


def test_a_note_of_1000_characters_is_kept(db, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    note = "가" * 1000
    assert _mark(as_listener, book, chapter, 0.5, note=note)["note"] == note


@pytest.mark.parametrize("query", ["limit=0", "book_id=x", "cursor=nonsense"])
def test_bad_list_queries_are_400(db, as_listener, query):
    assert as_listener.get(f"{BOOKMARKS}?{query}").status_code == 400
