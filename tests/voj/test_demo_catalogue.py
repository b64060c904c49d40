"""manage.py ensure_demo_catalogue: the local mode's demo books, made and repaired through the API's
own services, seen by each demo account as any book would be."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import Api, fixture_bytes
from voj.management.commands.ensure_demo_catalogue import DEMO_AUDIO, DEMO_BOOKS

PUBLISHED = next(demo for demo in DEMO_BOOKS if demo.published)
DRAFT = next(demo for demo in DEMO_BOOKS if not demo.published)


def _ensure() -> str:
    out = StringIO()
    call_command("ensure_demo_catalogue", stdout=out)
    return out.getvalue()


def _books(api: Api) -> dict[str, dict]:
    response = api.get("/api/v1/books?limit=100")
    assert response.status_code == 200, response.content
    return {book["title"]: book for book in response.json()["results"]}


def _chapters(api: Api, book_id: str) -> list[dict]:
    response = api.get(f"/api/v1/books/{book_id}/chapters?limit=100")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_demo_audio_is_the_committed_fixture():
    # The tests' own fixture and the command's file are the same tone: a checked, ready upload.
    assert DEMO_AUDIO.read_bytes() == fixture_bytes("tone-faststart.m4a")


def test_the_listener_sees_the_published_book_and_can_keep_a_place_in_it(editor, listener):
    output = _ensure()
    assert PUBLISHED.title in output and DRAFT.title in output
    as_listener = Api(listener)
    books = _books(as_listener)
    assert list(books) == [PUBLISHED.title]  # the draft is the editor's alone
    book = books[PUBLISHED.title]
    assert book["status"] == "published" and book["owner"] == editor.pk
    chapters = _chapters(as_listener, book["id"])
    assert [c["title"] for c in chapters] == list(PUBLISHED.chapters)
    assert all(c["status"] == "ready" and c["duration_seconds"] > 0 for c in chapters)
    # What the contract test's stateful phase relies on: a listener can report and bookmark.
    first = chapters[0]
    report = {
        "chapter_id": first["id"],
        "position_seconds": 0.5,
        "updated_at": first["updated_at"],
        "device": "phone",
    }
    assert as_listener.put(f"/api/v1/me/progress/{book['id']}", report).status_code == 200
    bookmark = {"book_id": book["id"], "chapter_id": first["id"], "position_seconds": 0.5}
    assert as_listener.post("/api/v1/me/bookmarks", bookmark).status_code == 201
    stream = as_listener.get(f"/api/v1/audio/{first['id']}/stream-url")
    assert stream.status_code == 200, stream.content


def test_the_editor_sees_both_books_and_the_draft_stays_a_draft(editor):
    _ensure()
    books = _books(Api(editor))
    assert books[DRAFT.title]["status"] == "draft"
    assert books[PUBLISHED.title]["status"] == "published"
    draft_chapters = _chapters(Api(editor), books[DRAFT.title]["id"])
    assert [(c["title"], c["status"]) for c in draft_chapters] == [
        (title, "ready") for title in DRAFT.chapters
    ]


def test_running_it_again_changes_nothing(editor):
    _ensure()
    as_editor = Api(editor)
    before = {
        title: (book, _chapters(as_editor, book["id"])) for title, book in _books(as_editor).items()
    }
    _ensure()
    after = {
        title: (book, _chapters(as_editor, book["id"])) for title, book in _books(as_editor).items()
    }
    assert after == before


def test_it_repairs_what_the_editor_changed(editor):
    """The contract test runs it between callers: whatever the editor's run did to the demo books
    (unpublished, published the draft, deleted a chapter or the whole book) is put back."""
    _ensure()
    as_editor = Api(editor)
    books = _books(as_editor)
    published, draft = books[PUBLISHED.title], books[DRAFT.title]
    assert as_editor.post(f"/api/v1/books/{published['id']}/unpublish").status_code == 200
    assert as_editor.post(f"/api/v1/books/{draft['id']}/publish").status_code == 200
    gone = _chapters(as_editor, published["id"])[0]
    url = f"/api/v1/books/{published['id']}/chapters/{gone['id']}"
    assert as_editor.delete(url).status_code == 204
    _ensure()
    books = _books(as_editor)
    assert books[PUBLISHED.title]["status"] == "published"
    assert books[DRAFT.title]["status"] == "draft"
    titles = sorted(c["title"] for c in _chapters(as_editor, published["id"]))
    assert titles == sorted(PUBLISHED.chapters)
    assert as_editor.delete(f"/api/v1/books/{draft['id']}").status_code == 204
    _ensure()
    assert _books(as_editor)[DRAFT.title]["id"] != draft["id"]  # made again


def test_every_demo_book_has_a_cover_and_gets_it_back(editor, listener):
    from django.test import Client

    _ensure()
    as_editor = Api(editor)
    books = _books(as_editor)
    assert all(book["cover_url"] for book in books.values())
    published = _books(Api(listener))[PUBLISHED.title]
    cover = Client().get(published["cover_url"].removeprefix("http://testserver"))
    assert cover.status_code == 200 and cover["Content-Type"] == "image/jpeg"
    assert as_editor.delete(f"/api/v1/books/{published['id']}/cover").status_code == 204
    _ensure()
    assert _books(as_editor)[PUBLISHED.title]["cover_url"]


def test_it_needs_the_demo_editor(db):
    with pytest.raises(CommandError, match="ensure_demo_accounts"):
        _ensure()


def test_it_refuses_a_deployed_stage(editor, settings):
    """Production settings on AWS itself: never demo books (make run-aws has production
    settings too, on local stand-ins)."""
    settings.VOJ_ENV, settings.VOJ_AWS_ENDPOINT_URL = "production", None
    with pytest.raises(CommandError, match="never a deployed stage"):
        _ensure()
    settings.VOJ_ENV = "test"
    assert _books(Api(editor)) == {}  # nothing was made


@pytest.mark.parametrize("s3_substrate", ["seaweedfs"], indirect=True)
def test_in_s3_mode_the_files_go_through_the_grant_to_the_bucket(
    s3_substrate, settings, editor, listener
):
    """As under `make run-aws`: each file is POSTed through its presigned grant to a real S3
    (SeaweedFS checks the policy), then completed from the bucket."""
    from voj.aws import aws_client

    settings.VOJ_STORAGE = "s3"
    aws_client("s3").create_bucket(
        Bucket=settings.VOJ_MEDIA_BUCKET,
        CreateBucketConfiguration={"LocationConstraint": settings.VOJ_AWS_REGION},
    )
    _ensure()
    book = _books(Api(listener))[PUBLISHED.title]
    assert book["cover_url"]
    chapters = _chapters(Api(listener), book["id"])
    assert [c["title"] for c in chapters] == list(PUBLISHED.chapters)
    assert {c["status"] for c in chapters} == {"ready"}
    _ensure()  # a repair finds everything there
    assert len(_chapters(Api(editor), book["id"])) == len(PUBLISHED.chapters)
