"""Titles, authors, descriptions, notes, device and file names carry no character that hides
or disguises what they read as: a bidi override made "evil\u202egpj.m4a" read "evila4m.jpg" in
the console. Such text is a 400 field error that changes nothing; joiners that scripts and
emoji need are kept."""

from __future__ import annotations

import pytest
from django.test import Client

from streaming.keys import clean_filename
from tests.helpers import book_create, playable_chapter

DISGUISING = {
    "rlo": "\u202e",
    "lro": "\u202d",
    "rli": "\u2067",
    "rlm": "\u200f",
    "alm": "\u061c",
    "zwsp": "\u200b",
    "word-joiner": "\u2060",
    "bom": "\ufeff",
    "tag": "\U000e0041",
    "soft-hyphen": "\u00ad",
    "nul": "\x00",
    "escape": "\x1b",
    "line-separator": "\u2028",
    "hangul-filler": "\u3164",
    "halfwidth-hangul-filler": "\uffa0",
    "braille-blank": "\u2800",
}


def _raw(api, method: str, path: str, body: str):
    """A JSON body as sent, so lone surrogates reach the server as \\ud800 escapes."""
    return getattr(Client(), method)(
        path, body.encode(), content_type="application/json", **api.headers
    )


@pytest.mark.django_db
@pytest.mark.parametrize("character", DISGUISING.values(), ids=DISGUISING.keys())
@pytest.mark.parametrize("field", ["title", "author"])
def test_a_book_title_or_author_that_disguises_is_refused(as_editor, field, character):
    body = {"title": "Plain", "author": "Plain", field: f"evil{character}gpj"}
    response = as_editor.post("/api/v1/books", body)
    assert response.status_code == 400, response.content
    [message] = response.json()[field]
    assert f"U+{ord(character):04X}" in message
    assert as_editor.get("/api/v1/books").json()["results"] == []


@pytest.mark.django_db
def test_a_rename_that_disguises_changes_nothing(as_editor):
    book = book_create(as_editor, "Before")
    response = as_editor.patch(f"/api/v1/books/{book['id']}", {"title": "After\u202e"})
    assert response.status_code == 400
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["title"] == "Before"


@pytest.mark.django_db
@pytest.mark.parametrize("surrogate", ["\\ud800", "\\udfff", "a\\ud83d"])
def test_a_lone_surrogate_is_a_400_not_a_500(as_editor, surrogate):
    response = _raw(
        as_editor, "post", "/api/v1/books", f'{{"title": "{surrogate}", "author": "a"}}'
    )
    assert response.status_code == 400, response.content


@pytest.mark.django_db
def test_descriptions_keep_newlines_and_tabs_but_not_overrides(as_editor):
    ok = as_editor.post(
        "/api/v1/books", {"title": "T", "author": "A", "description": "One\n\tTwo\r\nThree"}
    )
    assert ok.status_code == 201
    assert ok.json()["description"] == "One\n\tTwo\r\nThree"
    refused = as_editor.post(
        "/api/v1/books", {"title": "T", "author": "A", "description": "One\u202eowT"}
    )
    assert refused.status_code == 400 and "description" in refused.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "👩\u200d💻 Developers",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        "어린 왕자",
        "Crème brûlée",
        "Ελληνικά",
    ],
    ids=["zwj-emoji", "zwnj-persian", "hangul", "accents", "greek"],
)
def test_text_of_every_script_is_kept_as_written(as_editor, text):
    response = as_editor.post("/api/v1/books", {"title": text, "author": text})
    assert response.status_code == 201, response.content
    assert response.json()["title"] == text


@pytest.mark.django_db
def test_a_file_name_that_disguises_is_refused(as_editor):
    book = book_create(as_editor)
    response = as_editor.post(
        f"/api/v1/books/{book['id']}/chapters",
        {
            "title": "Chapter",
            "filename": "evil\u202egpj.m4a",
            "content_type": "audio/mp4",
            "size_bytes": 10,
        },
    )
    assert response.status_code == 400
    assert "filename" in response.json()
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 0


@pytest.mark.django_db
def test_bookmark_notes_and_device_names_that_disguise_are_refused(as_editor, as_listener):
    chapter = playable_chapter(as_editor)
    note = as_listener.post(
        "/api/v1/me/bookmarks",
        {
            "book_id": chapter["book_id"],
            "chapter_id": chapter["id"],
            "position_seconds": 1,
            "note": "see\u202e here",
        },
    )
    assert note.status_code == 400 and "note" in note.json()
    device = as_listener.put(
        f"/api/v1/me/progress/{chapter['book_id']}",
        {
            "chapter_id": chapter["id"],
            "position_seconds": 1,
            "updated_at": "2026-12-01T10:00:00Z",
            "device": "phone\x1b[31m",
        },
    )
    assert device.status_code == 400 and "device" in device.json()
    assert as_listener.get("/api/v1/me/bookmarks").json()["results"] == []
    assert as_listener.get(f"/api/v1/me/progress/{chapter['book_id']}").status_code == 404


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("evil\u202egpj.m4a", "evilgpj.m4a"),
        ("\u200bchapter\u2066.m4a", "chapter.m4a"),
        ("ch\u200d1.m4a", "ch\u200d1.m4a"),
    ],
)
def test_clean_filename_removes_what_disguises(given, kept):
    assert clean_filename(given) == kept


def test_the_field_error_is_drf_s_shape(db, as_editor):
    response = as_editor.post("/api/v1/books", {"title": "a\u202eb", "author": "A"})
    body = response.json()
    assert isinstance(body["title"], list) and body["code"] == "invalid"
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in body["title"][0]
