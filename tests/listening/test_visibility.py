"""What a listener keeps follows what they may see: a draft is 404 to them, and unpublishing a
book takes it off their shelf and lists at once (publishing it again brings it back)."""

from __future__ import annotations

from tests.helpers import book_create, book_publish, ready_chapter
from tests.listening.steps import (
    book_unpublish,
    listenable_book,
    progress_url,
    put_progress,
    report,
)

SHELF = "/api/v1/me/progress"
BOOKMARKS = "/api/v1/me/bookmarks"


def _mark(api, book: dict, chapter: dict):
    body = {"book_id": book["id"], "chapter_id": chapter["id"], "position_seconds": 0.5}
    return api.post(BOOKMARKS, body)


def test_a_draft_is_404_to_a_listener_and_playable_by_its_owner_and_staff(
    backend, as_editor, as_other_editor, as_listener, as_operator
):
    draft = book_create(as_editor, "Draft")
    chapter = ready_chapter(as_editor, draft)
    for api in (as_listener, as_other_editor):
        for response in (
            api.put(progress_url(draft), report(chapter, 0.5)),
            api.get(progress_url(draft)),
            api.delete(progress_url(draft)),
            _mark(api, draft, chapter),
            api.get(f"{BOOKMARKS}?book_id={draft['id']}"),
        ):
            assert response.status_code == 404, response.content
            assert response.json()["code"] == "book_not_found"
    # The owner (a token user on the hot path: the owner check needs no row) and staff (the row
    # is loaded) may listen to a draft.
    for api in (as_editor, as_operator):
        put_progress(api, draft, report(chapter, 0.5))
        assert api.get(progress_url(draft)).status_code == 200
        assert _mark(api, draft, chapter).status_code == 201


def test_unpublishing_hides_a_book_at_once_and_publishing_brings_it_back(
    backend, as_editor, as_listener
):
    book, [chapter] = listenable_book(as_editor)
    other, [other_chapter] = listenable_book(as_editor, title="Other")
    put_progress(as_listener, book, report(chapter, 0.5))
    put_progress(as_listener, other, report(other_chapter, 0.5))
    bookmark = _mark(as_listener, book, chapter).json()
    _mark(as_listener, other, other_chapter)
    book_unpublish(as_editor, book)
    assert [i["book_id"] for i in as_listener.get(SHELF).json()["results"]] == [other["id"]]
    assert [b["book_id"] for b in as_listener.get(BOOKMARKS).json()["results"]] == [other["id"]]
    for response in (
        as_listener.put(progress_url(book), report(chapter, 1.0)),
        as_listener.get(progress_url(book)),
        as_listener.get(f"{BOOKMARKS}?book_id={book['id']}"),
    ):
        assert response.status_code == 404
    assert as_listener.patch(f"{BOOKMARKS}/{bookmark['id']}", {"note": "x"}).status_code == 404
    book_publish(as_editor, book["id"])
    assert as_listener.get(progress_url(book)).json()["latest"]["position_seconds"] == 0.5
    assert len(as_listener.get(SHELF).json()["results"]) == 2
    assert len(as_listener.get(BOOKMARKS).json()["results"]) == 2
