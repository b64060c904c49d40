"""The listener's two hot paths, a progress report and a stream link, decide who may see a book
from its owner and status alone (on DynamoDB the book's small head, never the book item): a
listener sees published books, an editor their own drafts too, staff everything, and anyone
else is answered 404 as if the book did not exist. A head written before it carried the owner
gets the same answers (read with the book item, as before) until the backfill copies it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.helpers import book_create, book_publish, chapter_url, ready_chapter
from tests.listening.steps import book_unpublish, progress_url, report
from voj.aws import aws_client


def _progress(api, chapter: dict) -> int:
    return api.put(progress_url(chapter["book_id"]), report(chapter, 0.5)).status_code


def _stream(api, chapter: dict) -> int:
    """The stream link by the chapter's id alone and named with its book: the same answer."""
    by_id = api.get(f"/api/v1/audio/{chapter['id']}/stream-url")
    in_book = api.get(chapter_url(chapter) + "/stream-url")
    answers = [(r.status_code, r.json().get("code")) for r in (by_id, in_book)]
    assert answers[0] == answers[1]
    return by_id.status_code


def _answers(chapter: dict, apis: dict) -> dict[str, tuple[int, int]]:
    return {who: (_progress(api, chapter), _stream(api, chapter)) for who, api in apis.items()}


@pytest.fixture
def apis(as_editor, as_other_editor, as_listener, as_operator) -> dict:
    return {
        "owner": as_editor,
        "other editor": as_other_editor,
        "listener": as_listener,
        "staff": as_operator,
    }


@pytest.fixture
def books(as_editor) -> dict[str, dict]:
    """A ready chapter in a published book and one in a draft, both the editor's."""
    published = book_create(as_editor, "Published")
    draft = book_create(as_editor, "Draft")
    chapters = {
        "published": ready_chapter(as_editor, published),
        "draft": ready_chapter(as_editor, draft),
    }
    book_publish(as_editor, published["id"])
    return chapters


EVERYONE = {
    "owner": (200, 200),
    "other editor": (200, 200),
    "listener": (200, 200),
    "staff": (200, 200),
}
OWNER_AND_STAFF = {**EVERYONE, "other editor": (404, 404), "listener": (404, 404)}
NOBODY = {who: (404, 404) for who in EVERYONE}


def test_who_may_report_and_stream(backend, books, apis):
    assert _answers(books["published"], apis) == EVERYONE
    assert _answers(books["draft"], apis) == OWNER_AND_STAFF


def test_an_unpublish_hides_the_book_on_both_paths(backend, books, apis, as_editor):
    chapter = books["published"]
    book_unpublish(as_editor, {"id": chapter["book_id"]})
    assert _answers(chapter, apis) == OWNER_AND_STAFF
    book_publish(as_editor, chapter["book_id"])
    assert _answers(chapter, apis) == EVERYONE


def test_a_deleted_book_is_gone_on_both_paths(backend, books, apis, as_editor):
    for chapter in books.values():
        assert as_editor.delete(f"/api/v1/books/{chapter['book_id']}").status_code == 204
        assert _answers(chapter, apis) == NOBODY


def _heads_as_old_code_wrote_them(book_ids: list[str]) -> None:
    """Each head put back without its copy of the owner, written directly with boto3."""
    from django.conf import settings

    client = aws_client("dynamodb")
    for book_id in book_ids:
        key = {"book_id": {"S": book_id}, "sk": {"S": "head"}}
        head = client.get_item(TableName=settings.VOJ_BOOKS_TABLE, Key=key, ConsistentRead=True)
        old = {name: value for name, value in head["Item"].items() if name != "owner"}
        client.put_item(TableName=settings.VOJ_BOOKS_TABLE, Item=old)


def _head_owners(book_ids: list[str]) -> dict[str, str | None]:
    from django.conf import settings

    client = aws_client("dynamodb")
    heads = {
        book_id: client.get_item(
            TableName=settings.VOJ_BOOKS_TABLE,
            Key={"book_id": {"S": book_id}, "sk": {"S": "head"}},
            ConsistentRead=True,
        )["Item"]
        for book_id in book_ids
    }
    return {book_id: head.get("owner", {}).get("N") for book_id, head in heads.items()}


def _backfill() -> str:
    out = StringIO()
    call_command("backfill_publishing", stdout=out)
    return out.getvalue()


def test_a_head_without_the_owner_copy_answers_alike_until_the_backfill_fills_it(
    dynamodb, books, apis, editor
):
    book_ids = [chapter["book_id"] for chapter in books.values()]
    _heads_as_old_code_wrote_them(book_ids)
    assert _head_owners(book_ids) == dict.fromkeys(book_ids)
    assert _answers(books["published"], apis) == EVERYONE
    assert _answers(books["draft"], apis) == OWNER_AND_STAFF
    assert "owner copied onto 2 heads" in _backfill()
    assert _head_owners(book_ids) == dict.fromkeys(book_ids, str(editor.pk))
    assert _answers(books["published"], apis) == EVERYONE
    assert _answers(books["draft"], apis) == OWNER_AND_STAFF
    # Idempotent: nothing left to copy.
    assert "owner copied onto 0 heads" in _backfill()


def test_a_status_change_gives_an_old_head_its_owner_copy(dynamodb, books, apis, as_editor, editor):
    chapter = books["published"]
    _heads_as_old_code_wrote_them([chapter["book_id"]])
    book_unpublish(as_editor, {"id": chapter["book_id"]})
    assert _head_owners([chapter["book_id"]]) == {chapter["book_id"]: str(editor.pk)}
    assert _answers(chapter, apis) == OWNER_AND_STAFF
