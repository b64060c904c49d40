"""Reports uploaded together after offline listening (POST /api/v1/me/progress/batch)."""

from __future__ import annotations

import pytest

from tests.listening.steps import (
    listenable_book,
    pending_chapter,
    place,
    progress_url,
    report,
    utc,
    when,
)

BATCH = "/api/v1/me/progress/batch"


def _item(book: dict, chapter: dict, position: float, **fields) -> dict:
    return {"book_id": book["id"], **report(chapter, position, **fields)}


def test_results_in_order_and_a_bad_item_spoils_none(backend, as_editor, as_listener):
    book, [first, second] = listenable_book(as_editor, chapters=2)
    other, [other_chapter] = listenable_book(as_editor, title="Other")
    pending = pending_chapter(as_editor, book)
    t1, t2, t3 = when(minutes=-30), when(minutes=-20), when(minutes=-10)
    unknown = "00000000-0000-4000-8000-000000000000"
    items = [
        _item(book, first, 0.5, at=t1),
        {**_item(book, first, 0.5), "position_seconds": "12"},  # a number as text
        _item(other, other_chapter, 0.25, at=t2, device="car"),
        _item(book, pending, 0.0),  # not a ready chapter
        _item(book, second, 0.75, at=t3),
        {**_item(book, first, 0.5), "book_id": unknown},
        "not an object",
        _item(book, first, 0.9, at=t2),  # older than the previous report of this book: late
    ]
    response = as_listener.post(BATCH, {"items": items})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == len(items)
    assert results[0]["applied"] is True
    assert results[0]["latest"] == place(first, 0.5, utc(t1))
    assert results[1]["book_id"] == book["id"]
    assert results[1]["error"]["code"] == "invalid"
    assert "position_seconds" in results[1]["error"]
    assert results[1]["error"]["detail"].startswith("position_seconds:")
    assert results[2]["latest"] == place(other_chapter, 0.25, utc(t2), "car")
    assert results[3] == {
        "book_id": book["id"],
        "error": {
            "detail": "The chapter is not a ready chapter of this book.",
            "code": "chapter_not_playable",
        },
    }
    assert results[4]["latest"] == place(second, 0.75, utc(t3))
    assert results[5]["book_id"] == unknown
    assert results[5]["error"]["code"] == "book_not_found"
    assert results[6]["book_id"] is None
    assert results[6]["error"]["code"] == "invalid"
    assert results[7]["applied"] is False
    assert results[7]["latest"] == place(second, 0.75, utc(t3))
    assert results[7]["furthest"] == place(second, 0.75, utc(t3))
    stored = as_listener.get(progress_url(book)).json()
    assert stored == {k: v for k, v in results[7].items() if k != "applied"}
    assert as_listener.get(progress_url(other)).json()["latest"]["device"] == "car"


def test_a_hundred_items_are_accepted(db, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    items = [_item(book, chapter, i / 100, at=when(minutes=i - 100)) for i in range(100)]
    results = as_listener.post(BATCH, {"items": items}).json()["results"]
    assert all(r["applied"] for r in results)
    assert as_listener.get(progress_url(book)).json()["latest"]["position_seconds"] == 0.99


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": "many"},
        {"items": {"book_id": "x"}},
        {},
        [],
        {"items": None},
    ],
)
def test_a_batch_that_is_not_a_list_of_1_to_100_items_is_400(db, as_listener, body):
    response = as_listener.post(BATCH, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_101_items_are_400_and_none_is_recorded(db, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    response = as_listener.post(BATCH, {"items": [_item(book, chapter, 0.5)] * 101})
    assert response.status_code == 400
    assert "items" in response.json()
    assert as_listener.get(progress_url(book)).status_code == 404


def test_without_a_token_is_401(anonymous):
    assert anonymous.post(BATCH, {"items": []}).status_code == 401
