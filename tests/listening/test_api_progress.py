"""A listener's progress through the HTTP API: reports merged so that a late one never takes the
listener back, and everything a report may get wrong."""

from __future__ import annotations

import json
import math

import pytest

from tests.helpers import chapter_url
from tests.listening.steps import (
    DURATION,
    listenable_book,
    pending_chapter,
    place,
    progress_url,
    put_progress,
    report,
    utc,
    when,
)


def test_first_report_is_latest_and_furthest(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    at = when(minutes=-1)
    answer = put_progress(as_listener, book, report(chapter, 0.75, at=at, device="Pixel 8"))
    expected = place(chapter, 0.75, utc(at), "Pixel 8")
    assert answer == {
        "book_id": book["id"],
        "latest": expected,
        "furthest": expected,
        "finished": False,
        "applied": True,
    }
    stored = as_listener.get(progress_url(book))
    assert stored.status_code == 200
    assert stored.json() == {k: v for k, v in answer.items() if k != "applied"}


def test_a_late_report_is_not_latest_but_may_move_furthest(backend, as_editor, as_listener):
    book, [first, second] = listenable_book(as_editor, chapters=2)
    now = when()
    put_progress(as_listener, book, report(first, 0.5, at=now, device="phone"))
    # The car was offline: its report is older than the phone's, and further into the book.
    late = when(minutes=-30)
    answer = put_progress(as_listener, book, report(second, 1.0, at=late, device="car"))
    assert answer["applied"] is False
    assert answer["latest"] == place(first, 0.5, utc(now), "phone")
    assert answer["furthest"] == place(second, 1.0, utc(late), "car")


def test_furthest_is_the_furthest_whatever_the_times(backend, as_editor, as_listener):
    book, [first, second] = listenable_book(as_editor, chapters=2)
    early, later, latest = when(minutes=-3), when(minutes=-2), when(minutes=-1)
    put_progress(as_listener, book, report(second, 0.25, at=early))
    put_progress(as_listener, book, report(first, 2.0, at=later))  # back to the start: a re-listen
    answer = put_progress(as_listener, book, report(second, 0.1, at=latest))
    assert answer["applied"] is True
    assert answer["latest"] == place(second, 0.1, utc(latest))
    assert answer["furthest"] == place(second, 0.25, utc(early))


def test_the_same_report_twice_changes_nothing(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    body = report(chapter, 1.0)
    first = put_progress(as_listener, book, body)
    again = put_progress(as_listener, book, body)
    assert again == {**first, "applied": False}


def test_finished_at_the_end_of_the_last_ready_chapter(backend, as_editor, as_listener):
    book, [first, last] = listenable_book(as_editor, chapters=2)
    pending_chapter(as_editor, book)  # not ready: the book ends with the second chapter
    end = DURATION - 0.5  # within the last second: a player stops short of the last frame
    answer = put_progress(as_listener, book, report(first, end, at=when(minutes=-3)))
    assert answer["finished"] is False  # the end of a chapter, not of the book
    answer = put_progress(as_listener, book, report(last, 0.5, at=when(minutes=-2)))
    assert answer["finished"] is False
    answer = put_progress(as_listener, book, report(last, end, at=when(minutes=-1)))
    assert answer["finished"] is True
    # Listening again from the start does not unfinish it.
    answer = put_progress(as_listener, book, report(first, 0.0))
    assert answer["finished"] is True
    assert answer["latest"]["chapter_id"] == first["id"]
    assert as_listener.get(progress_url(book)).json()["finished"] is True


def test_the_exact_end_is_accepted_and_finishes(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    duration = chapter["duration_seconds"]
    answer = put_progress(as_listener, book, report(chapter, duration))
    assert answer["finished"] is True
    assert answer["latest"]["position_seconds"] == duration


@pytest.mark.parametrize("position", [5e-324, 1e-200, 4e-7])
def test_a_position_below_a_microsecond_is_the_chapter_s_start(
    backend, as_editor, as_listener, position
):
    """A place is kept to the microsecond: DynamoDB refuses a number below 1e-130 (the report
    was a 500 there), and no player reports finer."""
    book, [chapter] = listenable_book(as_editor)
    answer = put_progress(as_listener, book, report(chapter, position))
    assert answer["latest"]["position_seconds"] == 0.0
    assert answer["furthest"]["position_seconds"] == 0.0
    batch = as_listener.post(
        "/api/v1/me/progress/batch",
        {"items": [{**report(chapter, position), "book_id": book["id"]}]},
    )
    assert batch.status_code == 200, batch.content
    assert batch.json()["results"][0]["latest"]["position_seconds"] == 0.0


def test_minus_zero_is_answered_as_stored(backend, as_editor, as_listener):
    """-0.0 is a JSON number and not below 0; the write's answer said -0.0 where every later read
    of the same progress says 0.0."""
    book, [chapter] = listenable_book(as_editor)
    body = json.dumps(report(chapter, 0.0)).replace(
        '"position_seconds": 0.0', '"position_seconds": -0.0'
    )
    response = as_listener.client.put(
        progress_url(book), body, content_type="application/json", **as_listener.headers
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert math.copysign(1.0, answer["latest"]["position_seconds"]) == 1.0
    assert math.copysign(1.0, answer["furthest"]["position_seconds"]) == 1.0
    assert as_listener.get(progress_url(book)).json() == {
        k: v for k, v in answer.items() if k != "applied"
    }


def test_no_progress_is_404_and_delete_is_204_even_when_none(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    missing = as_listener.get(progress_url(book))
    assert missing.status_code == 404
    assert missing.json()["code"] == "progress_not_found"
    assert as_listener.delete(progress_url(book)).status_code == 204  # nothing to forget
    put_progress(as_listener, book, report(chapter, 1.0))
    assert as_listener.delete(progress_url(book)).status_code == 204
    assert as_listener.get(progress_url(book)).status_code == 404
    assert as_listener.delete(progress_url(book)).status_code == 204


def test_each_listener_has_their_own(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    put_progress(as_listener, book, report(chapter, 1.0))
    assert as_editor.get(progress_url(book)).status_code == 404
    put_progress(as_editor, book, report(chapter, 0.5))
    assert as_listener.get(progress_url(book)).json()["latest"]["position_seconds"] == 1.0


def test_unknown_book_is_404(backend, as_editor, as_listener):
    _, [chapter] = listenable_book(as_editor)
    unknown = "00000000-0000-4000-8000-000000000000"
    for response in (
        as_listener.put(progress_url(unknown), report(chapter, 1.0)),
        as_listener.get(progress_url(unknown)),
        as_listener.delete(progress_url(unknown)),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "book_not_found"
    assert as_listener.get("/api/v1/me/progress/not-an-id").status_code == 404


@pytest.mark.parametrize("kind", ["pending", "failed", "other_book", "unknown"])
def test_a_chapter_that_is_not_a_ready_chapter_of_the_book_is_400(
    backend, as_editor, as_listener, kind
):
    book, _ = listenable_book(as_editor)
    if kind == "pending":
        chapter = pending_chapter(as_editor, book)
    elif kind == "failed":
        chapter = _failed_chapter(as_editor, book)
    elif kind == "other_book":
        _, [chapter] = listenable_book(as_editor, title="Another")
    else:
        chapter = {"id": "00000000-0000-4000-8000-000000000000"}
    answer = put_progress(as_listener, book, report(chapter, 0.0), status=400)
    assert answer["code"] == "chapter_not_playable"


def _failed_chapter(api, book: dict) -> dict:
    """A chapter whose upload was refused at completion (a file with no audio)."""
    from tests.conftest import fixture_bytes
    from tests.helpers import chapter_create

    content = fixture_bytes("video-no-audio.mp4")
    created = chapter_create(
        api, book, size=len(content), filename="v.mp4", content_type="video/mp4"
    )
    assert api.upload(created["upload"], content, filename="v.mp4").status_code == 204
    api.post(chapter_url(created["chapter"]) + "/complete")
    chapter = api.get(chapter_url(created["chapter"])).json()
    assert chapter["status"] == "failed", chapter
    return chapter


@pytest.mark.parametrize("position", [-0.001, DURATION + 0.01, 1e6])
def test_a_position_outside_the_chapter_is_400(backend, as_editor, as_listener, position):
    book, [chapter] = listenable_book(as_editor)
    answer = put_progress(as_listener, book, report(chapter, position), status=400)
    assert answer["code"] == ("invalid" if position < 0 else "position_out_of_range")


def test_a_time_more_than_five_minutes_ahead_is_400(backend, as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    answer = put_progress(as_listener, book, report(chapter, 1.0, at=when(minutes=6)), status=400)
    assert answer["code"] == "updated_at_in_future"
    # A device clock a little ahead is within the allowance.
    put_progress(as_listener, book, report(chapter, 1.0, at=when(minutes=4)))
    assert as_listener.get(progress_url(book)).status_code == 200


BAD_FIELDS = [
    ({"position_seconds": "12"}, "position_seconds"),
    ({"position_seconds": True}, "position_seconds"),
    ({"position_seconds": None}, "position_seconds"),
    ({"position_seconds": [1]}, "position_seconds"),
    ({"position_seconds": 10**400}, "position_seconds"),
    ({"updated_at": "2026-01-01T08:00:00"}, "updated_at"),  # no time zone
    ({"updated_at": "2026-01-01 08:00:00Z"}, "updated_at"),
    ({"updated_at": "2026-02-30T08:00:00Z"}, "updated_at"),
    ({"updated_at": "yesterday"}, "updated_at"),
    ({"updated_at": 1767225600}, "updated_at"),
    ({"updated_at": "9999-12-31T23:59:59-01:00"}, "updated_at"),  # past year 9999 in UTC
    ({"device": ""}, "device"),
    ({"device": "   "}, "device"),
    ({"device": "x" * 101}, "device"),
    ({"device": 7}, "device"),
    ({"chapter_id": "chapter-1"}, "chapter_id"),
    ({"chapter_id": 12}, "chapter_id"),
    ({"chapter_id": "00000000-0000-4000-8000-00000000000A"}, "chapter_id"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "field"), BAD_FIELDS)
def test_wrongly_typed_fields_are_400(as_editor, as_listener, change, field):
    book, [chapter] = listenable_book(as_editor)
    answer = put_progress(as_listener, book, {**report(chapter, 1.0), **change}, status=400)
    assert answer["code"] == "invalid"
    assert field in answer


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["chapter_id", "position_seconds", "updated_at", "device"])
def test_missing_fields_are_400(as_editor, as_listener, field):
    book, [chapter] = listenable_book(as_editor)
    body = report(chapter, 1.0)
    del body[field]
    answer = put_progress(as_listener, book, body, status=400)
    assert answer["code"] == "invalid"
    assert field in answer


@pytest.mark.django_db
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinities_are_not_numbers(as_editor, as_listener, literal):
    book, [chapter] = listenable_book(as_editor)
    fields = json.dumps({"chapter_id": chapter["id"], "updated_at": when(), "device": "phone"})
    body = fields[:-1] + f', "position_seconds": {literal}}}'  # no JSON encoder writes these
    response = as_listener.client.put(
        progress_url(book), body, content_type="application/json", **as_listener.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db
def test_accepted_shapes_of_numbers_times_and_devices(as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    device = "𝄞" * 100  # 100 characters of 4 bytes each
    answer = put_progress(
        as_listener,
        book,
        {**report(chapter, 1, device=device), "updated_at": "2026-01-01t17:00:00.5+09:00"},
    )
    assert answer["latest"]["position_seconds"] == 1.0
    assert answer["latest"]["updated_at"] == "2026-01-01T08:00:00.500000Z"
    assert answer["latest"]["device"] == device


@pytest.mark.django_db
def test_a_leap_second_is_the_next_instant(as_editor, as_listener):
    book, [chapter] = listenable_book(as_editor)
    body = {**report(chapter, 1.0), "updated_at": "2016-12-31T23:59:60Z"}
    answer = put_progress(as_listener, book, body)
    assert answer["latest"]["updated_at"] == "2017-01-01T00:00:00Z"


def test_without_a_token_is_401(anonymous, as_editor):
    book, [chapter] = listenable_book(as_editor)
    assert anonymous.put(progress_url(book), report(chapter, 1.0)).status_code == 401
    assert anonymous.get(progress_url(book)).status_code == 401
    assert anonymous.get("/api/v1/me/progress").status_code == 401


def test_an_editor_cannot_report_a_position_in_their_own_pending_chapter(db, as_editor):
    book, _ = listenable_book(as_editor)
    chapter = pending_chapter(as_editor, book)
    assert put_progress(as_editor, book, report(chapter, 0.0), status=400)["code"] == (
        "chapter_not_playable"
    )


def test_a_report_reads_no_user_row(dynamodb, as_editor, as_listener, django_assert_num_queries):
    """The hot path checks the token without the user's row (the operator database, on Lambda),
    and the visibility of a published book needs none."""
    book, [chapter] = listenable_book(as_editor)
    body = report(chapter, DURATION - 0.5)  # the end of the book: the chapters are read too
    with django_assert_num_queries(0):
        assert put_progress(as_listener, book, body)["finished"] is True
        assert as_listener.get(progress_url(book)).status_code == 200
