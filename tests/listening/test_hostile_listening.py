"""What a listener keeps, attacked: times far in the past or future and in odd formats, numbers
that are not numbers, batches all bad or all for one book, bookmarks and versions at and past
their limits, and other people's books. Every refusal is a JSON 4xx that changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.helpers import book_create, ready_chapter
from tests.listening.steps import listenable_book, progress_url, put_progress, report, when

BATCH = "/api/v1/me/progress/batch"
BOOKMARKS = "/api/v1/me/bookmarks"
SHELF = "/api/v1/me/progress"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def raw(api, method: str, path: str, body: str):
    """A body as sent, so that it may hold what no JSON encoder writes (NaN, 400 digits)."""
    return getattr(api.client, method)(
        path, body.encode(), content_type="application/json", **api.headers
    )


@pytest.mark.parametrize(
    "updated_at",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59Z",  # far ahead
        "2026-13-45T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00",
        "1767225600",
        "\uff12\uff10\uff12\uff16-01-01T00:00:00Z",  # full-width digits
        "2026-01-01T00:00:00Z\n",
        " 2026-01-01T00:00:00Z",
    ],
)
def test_an_odd_or_far_time_is_refused_and_changes_nothing(
    backend, as_editor, as_listener, updated_at
):
    book, [chapter] = listenable_book(as_editor)
    before = put_progress(as_listener, book, report(chapter, 0.5, at=when(minutes=-1)))
    answer = put_progress(
        as_listener, book, {**report(chapter, 1.5), "updated_at": updated_at}, status=400
    )
    assert answer["code"] in {"invalid", "updated_at_in_future"}
    assert answer["detail"]
    stored = as_listener.get(progress_url(book)).json()
    assert stored == {k: v for k, v in before.items() if k != "applied"}


def test_times_from_the_first_years_are_kept_and_ordered(backend, as_editor, as_listener):
    """Year 1 and the instant before 1970 are real times: kept exactly, older than any other,
    and the shelf orders and pages them newest first."""
    books = [listenable_book(as_editor, title=f"B{i}") for i in range(3)]
    times = ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59.999999Z", "0001-01-01T00:59:59-01:00"]
    for (book, [chapter]), at in zip(books, times, strict=True):
        answer = put_progress(as_listener, book, report(chapter, 1.0, at=at))
        assert answer["applied"] is True
    first, second, third = (b["id"] for b, _ in books)
    seen, url = [], f"{SHELF}?limit=1"
    while url:
        page = as_listener.get(url.removeprefix("http://testserver"))
        assert page.status_code == 200, page.content
        seen += [(i["book_id"], i["latest"]["updated_at"]) for i in page.json()["results"]]
        url = page.json()["next"]
    assert seen == [
        (second, "1969-12-31T23:59:59.999999Z"),
        (third, "0001-01-01T01:59:59Z"),
        (first, "0001-01-01T00:00:00Z"),
    ]
    # A report from the present is newer; one from year 1 after it is late.
    book, [chapter] = books[0]
    assert put_progress(as_listener, book, report(chapter, 2.0))["applied"] is True
    late = put_progress(as_listener, book, report(chapter, 0.1, at=times[0]))
    assert late["applied"] is False and late["latest"]["position_seconds"] == 2.0


@pytest.mark.parametrize(
    "number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, '"1.5"']
)
def test_bookmark_places_that_are_not_numbers_change_nothing(
    backend, as_editor, as_listener, number
):
    book, [chapter] = listenable_book(as_editor)
    mark = as_listener.post(
        BOOKMARKS, {"book_id": book["id"], "chapter_id": chapter["id"], "position_seconds": 1.0}
    ).json()
    created = raw(
        as_listener,
        "post",
        BOOKMARKS,
        f'{{"book_id": "{book["id"]}", "chapter_id": "{chapter["id"]}", '
        f'"position_seconds": {number}}}',
    )
    moved = raw(
        as_listener, "patch", f"{BOOKMARKS}/{mark['id']}", f'{{"position_seconds": {number}}}'
    )
    for response in (created, moved):
        assert response.status_code == 400, response.content
        assert response.json()["code"] in {"parse_error", "invalid", "position_out_of_range"}
    assert as_listener.get(BOOKMARKS).json()["results"] == [mark]


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("9223372036854775807", 409),
        ("18446744073709551616", 409),
        ("1" + "0" * 40, 409),
        ("1e300", 400),
        ("-0", 400),
        ("0.5", 400),
        ("true", 400),
        ('"1"', 400),
    ],
)
def test_a_version_past_any_integer_a_store_keeps_changes_nothing(
    backend, as_editor, as_listener, version, status
):
    """SQLite's integers end at 2**63 - 1 and DynamoDB's numbers at 38 digits: a version past
    them is a conflict (no bookmark has it), never a 500."""
    book, [chapter] = listenable_book(as_editor)
    mark = as_listener.post(
        BOOKMARKS, {"book_id": book["id"], "chapter_id": chapter["id"], "position_seconds": 1.0}
    ).json()
    response = raw(
        as_listener, "patch", f"{BOOKMARKS}/{mark['id']}", f'{{"note": "x", "version": {version}}}'
    )
    assert response.status_code == status, response.content
    assert as_listener.get(BOOKMARKS).json()["results"] == [mark]


def test_a_batch_of_a_hundred_bad_items_for_one_book_records_nothing(
    backend, as_editor, as_listener
):
    book, [chapter] = listenable_book(as_editor)
    good = {"book_id": book["id"], **report(chapter, 1.0)}
    spoilers = [
        {"position_seconds": -0.0001},
        {"position_seconds": 1e308},
        {"position_seconds": "1"},
        {"updated_at": "9999-12-31T23:59:59Z"},
        {"updated_at": "0001-01-01T00:00:00+01:00"},
        {"updated_at": 1767225600},
        {"device": "\u202e"},
        {"chapter_id": UNKNOWN},
        {"book_id": book["id"].upper()},
        {"book_id": UNKNOWN},
    ]
    items = [{**good, **spoilers[i % len(spoilers)]} for i in range(100)]
    response = as_listener.post(BATCH, {"items": items})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == 100 and all(set(r) == {"book_id", "error"} for r in results)
    assert all(r["error"]["code"] and r["error"]["detail"] for r in results)
    assert as_listener.get(progress_url(book)).status_code == 404
    assert as_listener.get(SHELF).json()["results"] == []


def test_a_hundred_items_for_one_book_in_any_order_keep_the_newest(backend, as_editor, as_listener):
    """Sent newest first (an app that flushes its queue backwards): the first is latest, every
    other is late, and furthest is the furthest of all of them."""
    book, [chapter] = listenable_book(as_editor)
    items = [
        {"book_id": book["id"], **report(chapter, (i * 37 % 100) / 50, at=when(minutes=-i - 1))}
        for i in range(100)
    ]
    results = as_listener.post(BATCH, {"items": items}).json()["results"]
    assert [r["applied"] for r in results] == [True] + [False] * 99
    stored = as_listener.get(progress_url(book)).json()
    assert stored["latest"]["position_seconds"] == 0.0
    assert stored["furthest"]["position_seconds"] == 99 / 50


def test_another_editors_draft_is_unknown_wherever_a_listener_names_it(
    backend, as_editor, as_other_editor, as_listener
):
    """A draft's book and chapter ids are answered exactly as ids that do not exist: moving a
    bookmark there, a batch item for it, its bookmarks."""
    draft = book_create(as_other_editor, "Secret draft")
    secret = ready_chapter(as_other_editor, draft)
    book, [chapter] = listenable_book(as_editor)
    mark = as_listener.post(
        BOOKMARKS, {"book_id": book["id"], "chapter_id": chapter["id"], "position_seconds": 1.0}
    ).json()
    answers = []
    for book_id, chapter_id in ((draft["id"], secret["id"]), (UNKNOWN, UNKNOWN)):
        moved = as_listener.patch(f"{BOOKMARKS}/{mark['id']}", {"chapter_id": chapter_id})
        item = {"book_id": book_id, **report({"id": chapter_id}, 0.5)}
        batch = as_listener.post(BATCH, {"items": [item]}).json()["results"][0]["error"]
        listed = as_listener.get(BOOKMARKS, data={"book_id": book_id})
        answers.append(
            (moved.status_code, moved.json()["detail"], batch, listed.status_code, listed.json())
        )
    assert answers[0] == answers[1]
    assert b"Secret" not in json.dumps(answers).encode()
    assert as_listener.get(BOOKMARKS).json()["results"] == [mark]


def test_at_the_bookmark_limit_a_refused_one_changes_nothing(
    backend, settings, as_editor, as_listener
):
    """Full: a new bookmark is 409 and the list is as it was; the ones there may still be
    changed, and a place at the chapter's very start and end is kept."""
    settings.VOJ_BOOKMARKS_PER_BOOK = 2
    book, [chapter] = listenable_book(as_editor)
    body = {"book_id": book["id"], "chapter_id": chapter["id"]}
    first = as_listener.post(BOOKMARKS, {**body, "position_seconds": 0.0}).json()
    as_listener.post(BOOKMARKS, {**body, "position_seconds": -0.0})
    before = as_listener.get(BOOKMARKS).json()["results"]
    for position in (1.0, 0.0):
        refused = as_listener.post(BOOKMARKS, {**body, "position_seconds": position})
        assert (refused.status_code, refused.json()["code"]) == (409, "bookmark_limit_reached")
    assert as_listener.get(BOOKMARKS).json()["results"] == before
    end = chapter["duration_seconds"]
    moved = as_listener.patch(f"{BOOKMARKS}/{first['id']}", {"position_seconds": end})
    assert moved.status_code == 200, moved.content
    assert moved.json()["position_seconds"] == end
