"""Books through the HTTP API, on both data backends."""

import pytest

from tests.helpers import book_publish, published_chapter

BOOK = {"title": "토지", "author": "박경리", "description": "A saga.", "language": "ko"}


def create(api, **fields):
    response = api.post("/api/v1/books", {**BOOK, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def test_editor_creates_a_draft_that_staff_read_too(
    backend, as_editor, as_operator, as_listener, as_other_editor, editor
):
    book = create(as_editor)
    assert book["owner"] == editor.id
    assert book["version"] == 1
    assert book["chapter_count"] == 0
    assert (book["status"], book["published_at"]) == ("draft", None)
    for api in (as_editor, as_operator):
        fetched = api.get(f"/api/v1/books/{book['id']}")
        assert fetched.status_code == 200
        assert fetched.json() == book
    # Nobody else learns that a draft exists.
    for api in (as_listener, as_other_editor):
        fetched = api.get(f"/api/v1/books/{book['id']}")
        assert (fetched.status_code, fetched.json()["code"]) == (404, "book_not_found")


def test_listener_cannot_create(backend, as_listener):
    response = as_listener.post("/api/v1/books", BOOK)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_staff_can_create(backend, as_operator):
    assert as_operator.post("/api/v1/books", BOOK).status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"author": "x"}, "title"),
        ({"title": "", "author": "x"}, "title"),
        ({"title": "x" * 301, "author": "x"}, "title"),
        ({"title": "x"}, "author"),
        ({"title": "x", "author": "y", "language": "not a language!"}, "language"),
        # JSON types are what the schema says: no number taken as text, no text as a number.
        ({"title": 12, "author": "x"}, "title"),
        ({"title": "x", "author": 1.5}, "author"),
        ({"title": "a\x00b", "author": "x"}, "title"),
        ({"title": "   ", "author": "x"}, "title"),
    ],
)
def test_create_rejects_bad_fields(backend, as_editor, payload, field):
    response = as_editor.post("/api/v1/books", payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body and isinstance(body[field], list)
    assert body["detail"].startswith(field)
    assert as_editor.get("/api/v1/books").json()["results"] == []


def test_malformed_json(backend, as_editor):
    response = as_editor.client.post(
        "/api/v1/books", data="{not json", content_type="application/json", **as_editor.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_unsupported_media_type(backend, as_editor):
    response = as_editor.client.post(
        "/api/v1/books", data="title=x", content_type="text/plain", **as_editor.headers
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_list_is_paginated_by_cursor(backend, as_editor, as_operator):
    ids = [create(as_editor, title=f"Book {n}")["id"] for n in range(5)]
    # The editor's own drafts, and staff's list of everything.
    for api in (as_editor, as_operator):
        seen, url = [], "/api/v1/books?limit=2"
        while url:
            page = api.get(url).json()
            seen += [b["id"] for b in page["results"]]
            url = page["next"]
        assert seen == list(reversed(ids))


def test_bad_paging_parameters(backend, as_listener):
    assert as_listener.get("/api/v1/books?limit=0").json()["code"] == "invalid"
    assert as_listener.get("/api/v1/books?limit=abc").status_code == 400
    # Empty values are invalid values, not missing ones (the schema says so too).
    assert as_listener.get("/api/v1/books?limit=").status_code == 400
    assert as_listener.get("/api/v1/books?cursor=").status_code == 400
    response = as_listener.get("/api/v1/books?cursor=forged")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_owner_updates_with_version(backend, as_editor):
    book = create(as_editor)
    response = as_editor.patch(f"/api/v1/books/{book['id']}", {"title": "Land", "version": 1})
    assert response.status_code == 200
    assert response.json()["title"] == "Land"
    assert response.json()["version"] == 2
    stale = as_editor.patch(f"/api/v1/books/{book['id']}", {"title": "Stale", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["title"] == "Land"


def test_update_without_version_still_applies(backend, as_editor):
    book = create(as_editor)
    response = as_editor.patch(f"/api/v1/books/{book['id']}", {"description": "new"})
    assert response.json()["description"] == "new"
    assert response.json()["title"] == BOOK["title"]


def test_non_owner_cannot_change(backend, as_editor, as_other_editor, as_listener):
    draft = create(as_editor)
    published = book_publish(as_editor, published_chapter(as_editor)["book_id"])
    for api in (as_other_editor, as_listener):
        # A published book: they see it, and may not change it.
        response = api.patch(f"/api/v1/books/{published['id']}", {"title": "Mine now"})
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        assert api.delete(f"/api/v1/books/{published['id']}").status_code == 403
        # A draft: they are not even told it exists.
        response = api.patch(f"/api/v1/books/{draft['id']}", {"title": "Mine now"})
        assert (response.status_code, response.json()["code"]) == (404, "book_not_found")
        assert api.delete(f"/api/v1/books/{draft['id']}").status_code == 404
    assert as_editor.get(f"/api/v1/books/{draft['id']}").json()["title"] == BOOK["title"]
    assert as_editor.get(f"/api/v1/books/{published['id']}").json() == published


def test_staff_can_change_any_book(backend, as_editor, as_operator):
    book = create(as_editor)
    assert as_operator.patch(f"/api/v1/books/{book['id']}", {"title": "x"}).status_code == 200
    assert as_operator.delete(f"/api/v1/books/{book['id']}").status_code == 204


def test_unknown_book(backend, as_editor):
    missing = "00000000-0000-0000-0000-000000000000"
    for response in (
        as_editor.get(f"/api/v1/books/{missing}"),
        as_editor.patch(f"/api/v1/books/{missing}", {"title": "x"}),
        as_editor.delete(f"/api/v1/books/{missing}"),
        as_editor.get(f"/api/v1/books/{missing}/chapters"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "book_not_found"


def test_delete(backend, as_editor):
    book = create(as_editor)
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    assert as_editor.get(f"/api/v1/books/{book['id']}").status_code == 404
