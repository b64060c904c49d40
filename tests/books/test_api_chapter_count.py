"""A book's ``chapter_count`` counts the chapters the viewer may see: every chapter for its owner
and staff, the ready ones for everyone else (a listener, another editor), in lists and by id,
so a count never tells anyone that hidden chapters exist."""

from __future__ import annotations

from tests.helpers import book_create, book_publish, chapter_create, chapter_url, ready_chapter


def _failed_chapter(api, book: dict) -> dict:
    content = b"This is a text file, not audio.\n" * 10
    created = chapter_create(api, book, size=len(content))
    assert api.upload(created["upload"], content).status_code == 204
    response = api.post(chapter_url(created["chapter"]) + "/complete")
    assert response.json()["status"] == "failed", response.content
    return response.json()


def _counts(api, book_id: str) -> tuple[int, list[int]]:
    """The count by id and in the list (every page)."""
    detail = api.get(f"/api/v1/books/{book_id}")
    assert detail.status_code == 200, detail.content
    listed, url = [], "/api/v1/books?limit=2"
    while url:
        page = api.get(url).json()
        listed += [b["chapter_count"] for b in page["results"] if b["id"] == book_id]
        url = page["next"]
    return detail.json()["chapter_count"], listed


def _visible_chapters(api, book_id: str) -> int:
    return len(api.get(f"/api/v1/books/{book_id}/chapters?limit=100").json()["results"])


def test_each_viewer_is_told_the_chapters_they_see(
    backend, as_editor, as_other_editor, as_listener, as_operator
):
    book = book_create(as_editor)
    ready_chapter(as_editor, book)
    chapter_create(as_editor, book, size=10)  # pending
    _failed_chapter(as_editor, book)
    book_publish(as_editor, book["id"])

    for api in (as_editor, as_operator):
        assert _counts(api, book["id"]) == (3, [3])
        assert _visible_chapters(api, book["id"]) == 3
    for api in (as_listener, as_other_editor):
        assert _counts(api, book["id"]) == (1, [1])
        assert _visible_chapters(api, book["id"]) == 1


def test_the_count_follows_completions_and_deletes(backend, as_editor, as_listener):
    book = book_create(as_editor)
    first = ready_chapter(as_editor, book)
    pending = chapter_create(as_editor, book, size=10)["chapter"]
    book_publish(as_editor, book["id"])
    assert _counts(as_listener, book["id"]) == (1, [1])
    ready_chapter(as_editor, book)
    assert _counts(as_listener, book["id"]) == (2, [2])
    assert as_editor.delete(chapter_url(pending)).status_code == 204
    assert _counts(as_listener, book["id"]) == (2, [2])
    assert _counts(as_editor, book["id"]) == (2, [2])
    assert as_editor.delete(chapter_url(first)).status_code == 204
    assert _counts(as_listener, book["id"]) == (1, [1])


def test_a_draft_tells_its_owner_every_chapter(backend, as_editor, as_operator):
    book = book_create(as_editor)
    chapter_create(as_editor, book, size=10)
    assert _counts(as_editor, book["id"]) == (1, [1])
    assert _counts(as_operator, book["id"]) == (1, [1])
