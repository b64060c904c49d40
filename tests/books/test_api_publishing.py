"""Publishing through the HTTP API, on every backend: who may publish and unpublish, and who
sees what (books, chapters and stream-url) as a listener, the owner, another editor and staff."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from books.signals import book_deleted
from tests.helpers import (
    book_create,
    book_publish,
    chapter_create,
    chapter_url,
    published_chapter,
)


def publish(api, book_id: str):
    return api.post(f"/api/v1/books/{book_id}/publish")


def unpublish(api, book_id: str):
    return api.post(f"/api/v1/books/{book_id}/unpublish")


def listed(api) -> list[str]:
    ids, url = [], "/api/v1/books?limit=2"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        ids += [book["id"] for book in response.json()["results"]]
        url = response.json()["next"]
    return ids


def test_the_owner_publishes_and_unpublishes(backend, as_editor, as_listener):
    chapter = published_chapter(as_editor)
    book_id = chapter["book_id"]
    before = as_editor.get(f"/api/v1/books/{book_id}").json()
    response = publish(as_editor, book_id)
    assert response.status_code == 200
    book = response.json()
    assert book["status"] == "published"
    published_at = datetime.fromisoformat(book["published_at"])
    assert abs(published_at - datetime.fromisoformat(book["updated_at"])) < timedelta(seconds=1)
    assert book["version"] == before["version"] + 1
    assert as_listener.get(f"/api/v1/books/{book_id}").json() == book
    # Again: nothing changes, the publication time is kept.
    assert publish(as_editor, book_id).json() == book
    draft = unpublish(as_editor, book_id)
    assert draft.status_code == 200
    assert (draft.json()["status"], draft.json()["published_at"]) == ("draft", None)
    assert draft.json()["version"] == book["version"] + 1
    assert unpublish(as_editor, book_id).json() == draft.json()
    assert as_listener.get(f"/api/v1/books/{book_id}").status_code == 404


def test_nothing_to_publish(backend, as_editor, as_listener):
    book = book_create(as_editor)
    chapter_create(as_editor, book, size=10)  # pending: nothing a listener could play
    response = publish(as_editor, book["id"])
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The book has no ready chapter to publish yet.",
        "code": "nothing_to_publish",
    }
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["status"] == "draft"
    assert as_listener.get(f"/api/v1/books/{book['id']}").status_code == 404


def test_staff_publish_anyones_book(backend, as_editor, as_operator):
    book_id = published_chapter(as_editor)["book_id"]
    assert publish(as_operator, book_id).json()["status"] == "published"
    assert unpublish(as_operator, book_id).json()["status"] == "draft"


def test_others_may_not_publish(backend, as_editor, as_other_editor, as_listener):
    draft = published_chapter(as_editor)["book_id"]
    published = book_publish(as_editor, published_chapter(as_editor)["book_id"])["id"]
    for api in (as_other_editor, as_listener):
        # They cannot see a draft: it does not exist for them.
        for call in (publish, unpublish):
            response = call(api, draft)
            assert (response.status_code, response.json()["code"]) == (404, "book_not_found")
        # They see a published book, and may not change it.
        for call in (publish, unpublish):
            response = call(api, published)
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert as_editor.get(f"/api/v1/books/{draft}").json()["status"] == "draft"
    assert as_editor.get(f"/api/v1/books/{published}").json()["status"] == "published"


def test_publishing_an_unknown_book(backend, as_editor):
    missing = "00000000-0000-0000-0000-000000000000"
    for call in (publish, unpublish):
        assert call(as_editor, missing).json()["code"] == "book_not_found"
    assert as_editor.post("/api/v1/books/not-an-id/publish").status_code == 404


def test_publish_takes_no_other_method(backend, as_editor):
    book_id = published_chapter(as_editor)["book_id"]
    response = as_editor.get(f"/api/v1/books/{book_id}/publish")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


@pytest.fixture
def catalogue(backend, as_editor):
    """The editor's published book (a ready and a pending chapter) and draft (a ready one)."""
    ready = published_chapter(as_editor, title="Ready")
    pending = chapter_create(as_editor, {"id": ready["book_id"]}, size=10, title="Pending")
    book_publish(as_editor, ready["book_id"])
    hidden = published_chapter(as_editor, title="In a draft")
    return {
        "published": ready["book_id"],
        "draft": hidden["book_id"],
        "ready": ready,
        "pending": pending["chapter"],
        "in_draft": hidden,
    }


# Who sees what: books (published, draft) and chapters (ready, pending, in the draft).
SEES = {
    "listener": {"draft": False, "pending": False},
    "other_editor": {"draft": False, "pending": False},
    "editor": {"draft": True, "pending": True},
    "operator": {"draft": True, "pending": True},
}


@pytest.mark.parametrize("who", list(SEES))
def test_who_sees_what(request, catalogue, who):
    api = request.getfixturevalue(f"as_{who}")
    sees = SEES[who]
    books = listed(api)
    assert catalogue["published"] in books
    assert (catalogue["draft"] in books) == sees["draft"]
    assert api.get(f"/api/v1/books/{catalogue['published']}").status_code == 200
    draft = api.get(f"/api/v1/books/{catalogue['draft']}")
    assert draft.status_code == (200 if sees["draft"] else 404)

    chapters = api.get(f"/api/v1/books/{catalogue['published']}/chapters").json()["results"]
    expected = [catalogue["ready"]["id"]] + (
        [catalogue["pending"]["id"]] if sees["pending"] else []
    )
    assert [c["id"] for c in chapters] == expected
    in_draft = api.get(f"/api/v1/books/{catalogue['draft']}/chapters")
    assert in_draft.status_code == (200 if sees["draft"] else 404)

    assert api.get(chapter_url(catalogue["ready"])).status_code == 200
    pending = api.get(chapter_url(catalogue["pending"]))
    assert pending.status_code == (200 if sees["pending"] else 404)
    hidden = api.get(chapter_url(catalogue["in_draft"]))
    assert hidden.status_code == (200 if sees["draft"] else 404)
    if not sees["draft"]:
        assert hidden.json()["code"] == "book_not_found"

    def stream(chapter: dict):
        """By the chapter's id alone and named with its book: the same answer."""
        by_id = api.get(f"/api/v1/audio/{chapter['id']}/stream-url")
        in_book = api.get(chapter_url(chapter) + "/stream-url")
        answers = [(r.status_code, r.json().get("code")) for r in (by_id, in_book)]
        assert answers[0] == answers[1]
        return by_id

    assert stream(catalogue["ready"]).status_code == 200
    assert stream(catalogue["in_draft"]).status_code == (200 if sees["draft"] else 404)
    not_ready = stream(catalogue["pending"])
    expected_status = (409, "chapter_not_ready") if sees["pending"] else (404, "chapter_not_found")
    assert (not_ready.status_code, not_ready.json()["code"]) == expected_status


def test_an_editors_list_merges_published_books_and_own_drafts(
    backend, as_editor, as_other_editor, as_listener
):
    mine = [book_create(as_editor, f"mine {n}")["id"] for n in range(2)]
    theirs = published_chapter(as_other_editor)["book_id"]
    book_publish(as_other_editor, theirs)
    their_draft = book_create(as_other_editor, "their draft")["id"]
    last = book_create(as_editor, "mine last")["id"]
    assert listed(as_editor) == [last, theirs, *reversed(mine)]
    assert listed(as_other_editor) == [their_draft, theirs]
    assert listed(as_listener) == [theirs]


def test_unpublishing_hides_the_book_at_once(backend, as_editor, as_listener):
    chapter = published_chapter(as_editor)
    book_id = chapter["book_id"]
    book_publish(as_editor, book_id)
    stream_url = f"/api/v1/audio/{chapter['id']}/stream-url"
    assert as_listener.get(stream_url).status_code == 200
    assert listed(as_listener) == [book_id]
    unpublish(as_editor, book_id)
    assert listed(as_listener) == []
    for url in (
        f"/api/v1/books/{book_id}",
        f"/api/v1/books/{book_id}/chapters",
        chapter_url(chapter),
        stream_url,
        chapter_url(chapter) + "/stream-url",
    ):
        assert as_listener.get(url).status_code == 404, url
    # The owner keeps everything.
    assert as_editor.get(stream_url).status_code == 200
    assert as_editor.get(chapter_url(chapter) + "/stream-url").status_code == 200
    assert listed(as_editor) == [book_id]


def test_a_deleted_book_is_announced(backend, as_editor, console):
    deleted: list[str] = []

    def receiver(sender, book_id, **kwargs):
        deleted.append(book_id)

    book_deleted.connect(receiver)
    try:
        by_api = book_create(as_editor)["id"]
        assert as_editor.delete(f"/api/v1/books/{by_api}").status_code == 204
        by_console = book_create(as_editor)["id"]
        console.post(f"/admin/catalogue/books/{by_console}/delete/")
        refused = book_create(as_editor)["id"]
        as_editor.delete(f"/api/v1/books/{refused}/chapters/{refused}")  # not a book delete
    finally:
        book_deleted.disconnect(receiver)
    assert deleted == [by_api, by_console]


def test_a_failing_receiver_does_not_undo_the_delete(backend, as_editor, caplog):
    def broken(sender, book_id, **kwargs):
        raise RuntimeError("listening is down")

    book_deleted.connect(broken)
    try:
        book_id = book_create(as_editor)["id"]
        assert as_editor.delete(f"/api/v1/books/{book_id}").status_code == 204
    finally:
        book_deleted.disconnect(broken)
    assert as_editor.get(f"/api/v1/books/{book_id}").status_code == 404
    assert "book_deleted receiver failed" in caplog.text
