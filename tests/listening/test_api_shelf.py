"""The continue-listening shelf (GET /api/v1/me/progress) through the HTTP API."""

from __future__ import annotations

import pytest

from tests.listening.steps import listenable_book, put_progress, report, when

SHELF = "/api/v1/me/progress"


def _titles(page: dict) -> list[str]:
    return [item["book_title"] for item in page["results"]]


@pytest.fixture
def three_books(as_editor, as_listener) -> dict[str, tuple[dict, dict]]:
    """Three books the listener reported in, "One" first and "Three" last."""
    books = {}
    for minutes, title in ((-30, "One"), (-20, "Two"), (-10, "Three")):
        book, [chapter] = listenable_book(as_editor, title=title)
        put_progress(as_listener, book, report(chapter, 0.5, at=when(minutes=minutes)))
        books[title] = (book, chapter)
    return books


def test_newest_latest_first_with_titles_and_paging(backend, three_books, as_listener):
    page = as_listener.get(SHELF).json()
    assert _titles(page) == ["Three", "Two", "One"]
    assert page["next"] is None
    book, _ = three_books["Three"]
    item = page["results"][0]
    progress = as_listener.get(f"{SHELF}/{book['id']}").json()
    assert item == {**progress, "book_title": "Three", "cover_url": None}
    first = as_listener.get(f"{SHELF}?limit=2").json()
    assert _titles(first) == ["Three", "Two"]
    assert _titles(as_listener.get(first["next"]).json()) == ["One"]


def test_a_newer_report_moves_a_book_to_the_front_and_a_late_one_does_not(
    backend, three_books, as_listener
):
    book, chapter = three_books["Two"]
    put_progress(as_listener, book, report(chapter, 0.9, at=when(minutes=-40)))  # late
    assert _titles(as_listener.get(SHELF).json()) == ["Three", "Two", "One"]
    put_progress(as_listener, book, report(chapter, 0.9))
    assert _titles(as_listener.get(SHELF).json()) == ["Two", "Three", "One"]


def test_deleted_books_are_not_on_it(backend, three_books, as_editor, as_listener):
    book, _ = three_books["Two"]
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    assert _titles(as_listener.get(SHELF).json()) == ["Three", "One"]
    # A page whose items were all dropped is filled from the next ones.
    first = as_listener.get(f"{SHELF}?limit=1").json()
    assert _titles(first) == ["Three"]
    assert _titles(as_listener.get(first["next"]).json()) == ["One"]


def test_each_listener_sees_their_own(backend, three_books, as_editor):
    assert as_editor.get(SHELF).json() == {"results": [], "next": None}


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "limit=", "cursor=nonsense"])
def test_bad_queries_are_400(db, as_listener, query):
    response = as_listener.get(f"{SHELF}?{query}")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "invalid_cursor"}


def test_another_listener_s_cursor_is_refused(db, three_books, as_listener, as_editor):
    cursor = as_listener.get(f"{SHELF}?limit=1").json()["next"].split("cursor=")[1]
    response = as_editor.get(f"{SHELF}?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
