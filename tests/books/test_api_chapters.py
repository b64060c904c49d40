"""Chapters through the HTTP API, on both data backends."""

import pytest

from tests.helpers import (
    book_create,
    book_publish,
    chapter_create,
    chapter_url,
    published_chapter,
)


def test_create_returns_chapter_and_grant(backend, as_editor):
    book = book_create(as_editor)
    body = chapter_create(as_editor, book, size=1000, title="Prologue")
    chapter, upload = body["chapter"], body["upload"]
    assert chapter["status"] == "pending_upload"
    assert chapter["number"] == 1
    assert chapter["title"] == "Prologue"
    assert chapter["original_filename"] == "chapter.m4a"
    assert upload["method"] == "POST"
    assert upload["url"].endswith("/api/v1/uploads")
    assert (
        upload["fields"]["key"]
        == f"uploads/{book['id']}/{chapter['id']}/" + (upload["fields"]["key"].rsplit("/", 1)[1])
    )
    assert upload["fields"]["Content-Type"] == "audio/mp4"
    assert {"policy", "x-voj-signature", "key", "Content-Type"} == set(upload["fields"])
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 1


def test_numbers_are_assigned_and_listed_in_order(backend, as_editor):
    book = book_create(as_editor)
    for number in (2, 10, 9):
        chapter_create(as_editor, book, size=10, number=number)
    auto = chapter_create(as_editor, book, size=10)["chapter"]
    assert auto["number"] == 11
    # Pending chapters: their owner lists them all.
    listed = as_editor.get(f"/api/v1/books/{book['id']}/chapters").json()
    assert [c["number"] for c in listed["results"]] == [2, 9, 10, 11]
    assert listed["next"] is None
    page = as_editor.get(f"/api/v1/books/{book['id']}/chapters?limit=3").json()
    assert [c["number"] for c in page["results"]] == [2, 9, 10]
    rest = as_editor.get(page["next"]).json()
    assert [c["number"] for c in rest["results"]] == [11]


def test_taken_number_is_a_conflict(backend, as_editor):
    book = book_create(as_editor)
    chapter_create(as_editor, book, size=10, number=3)
    response = as_editor.post(
        f"/api/v1/books/{book['id']}/chapters",
        {
            "title": "x",
            "filename": "a.m4a",
            "content_type": "audio/mp4",
            "size_bytes": 10,
            "number": 3,
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "chapter_number_taken"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"filename": "chapter.mp3"}, "filename"),
        ({"filename": "chapter.wav"}, "filename"),
        ({"filename": "m4a"}, "filename"),
        ({"filename": "../"}, "filename"),
        ({"content_type": "audio/mpeg"}, "content_type"),
        ({"content_type": "text/plain"}, "content_type"),
        ({"size_bytes": 0}, "size_bytes"),
        ({"size_bytes": -5}, "size_bytes"),
        ({"size_bytes": 100 * 1024 * 1024 + 1}, "size_bytes"),
        ({"size_bytes": "big"}, "size_bytes"),
        ({"size_bytes": "12"}, "size_bytes"),
        ({"size_bytes": 12.5}, "size_bytes"),
        ({"size_bytes": True}, "size_bytes"),
        ({"number": "3"}, "number"),
        ({"number": 0}, "number"),
        ({"title": ""}, "title"),
    ],
)
def test_grant_rejects_bad_input(backend, as_editor, change, field):
    book = book_create(as_editor)
    payload = {
        "title": "t",
        "filename": "a.m4a",
        "content_type": "audio/mp4",
        "size_bytes": 100,
        **change,
    }
    response = as_editor.post(f"/api/v1/books/{book['id']}/chapters", payload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body
    assert as_editor.get(f"/api/v1/books/{book['id']}/chapters").json()["results"] == []
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 0


def test_size_limit_is_inclusive(backend, as_editor):
    book = book_create(as_editor)
    chapter_create(as_editor, book, size=100 * 1024 * 1024)
    chapter_create(as_editor, book, size=1, filename="x.MP4", content_type="video/mp4")


def test_file_name_is_sanitised_and_nfc(backend, as_editor):
    import unicodedata

    book = book_create(as_editor)
    nfd = unicodedata.normalize("NFD", "제1장 서막.m4a")
    assert nfd != "제1장 서막.m4a"
    body = chapter_create(as_editor, book, size=10, filename=f"../../etc/{nfd}")
    assert body["chapter"]["original_filename"] == "제1장 서막.m4a"
    key = body["upload"]["fields"]["key"]
    assert ".." not in key and "서막" not in key and "etc" not in key
    windows = chapter_create(as_editor, book, size=10, filename="C:\\Users\\me\\ch<2>.m4a")
    assert windows["chapter"]["original_filename"] == "ch2.m4a"


def test_only_the_owner_adds_chapters(backend, as_editor, as_other_editor, as_listener):
    draft = book_create(as_editor)
    published = book_publish(as_editor, published_chapter(as_editor)["book_id"])
    payload = {"title": "t", "filename": "a.m4a", "content_type": "audio/mp4", "size_bytes": 1}
    for api in (as_other_editor, as_listener):
        response = api.post(f"/api/v1/books/{published['id']}/chapters", payload)
        assert response.status_code == 403
        response = api.post(f"/api/v1/books/{draft['id']}/chapters", payload)
        assert (response.status_code, response.json()["code"]) == (404, "book_not_found")
    assert as_editor.get(f"/api/v1/books/{draft['id']}").json()["chapter_count"] == 0
    assert as_editor.get(f"/api/v1/books/{published['id']}").json()["chapter_count"] == 1


def test_get_update_delete(backend, as_editor, as_listener):
    book = book_create(as_editor)
    chapter = chapter_create(as_editor, book, size=10)["chapter"]
    assert as_editor.get(chapter_url(chapter)).json()["id"] == chapter["id"]
    # A pending chapter of a draft: nothing a listener may see.
    assert as_listener.get(chapter_url(chapter)).status_code == 404
    renamed = as_editor.patch(chapter_url(chapter), {"title": "Renamed", "number": 4, "version": 1})
    assert renamed.status_code == 200
    assert (renamed.json()["title"], renamed.json()["number"]) == ("Renamed", 4)
    stale = as_editor.patch(chapter_url(chapter), {"title": "Stale", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert as_listener.patch(chapter_url(chapter), {"title": "x"}).status_code == 404
    assert as_listener.delete(chapter_url(chapter)).status_code == 404
    assert as_editor.get(chapter_url(chapter)).json()["title"] == "Renamed"
    assert as_editor.delete(chapter_url(chapter)).status_code == 204
    assert as_editor.get(chapter_url(chapter)).status_code == 404
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 0


def test_chapter_of_another_book_is_not_found(backend, as_editor):
    book = book_create(as_editor)
    other = book_create(as_editor, "Other")
    chapter = chapter_create(as_editor, book, size=10)["chapter"]
    response = as_editor.get(f"/api/v1/books/{other['id']}/chapters/{chapter['id']}")
    assert response.status_code == 404
    assert response.json()["code"] == "chapter_not_found"


def test_unknown_chapter(backend, as_editor):
    book = book_create(as_editor)
    url = f"/api/v1/books/{book['id']}/chapters/00000000-0000-0000-0000-000000000000"
    assert as_editor.get(url).status_code == 404
    assert as_editor.post(url + "/complete").status_code == 404
    assert as_editor.get("/api/v1/audio/nope/stream-url").status_code == 404
