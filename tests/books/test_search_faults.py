"""Search on DynamoDB when DynamoDB misbehaves (faults injected at botocore's hooks, as in
test_dynamodb_faults.py): unprocessed keys, and writes that stop between the term items and
the book. A stale term item is dropped by the check against the book; none is ever missing."""

from __future__ import annotations

import pytest

from tests.books.test_dynamodb_faults import Fault, no_backoff, pauses  # noqa: F401 (fixtures)


def titles(api, q: str) -> list[str]:
    response = api.get(f"/api/v1/books?q={q}")
    assert response.status_code == 200, response.content
    return [b["title"] for b in response.json()["results"]]


def unavailable(body):
    return 500, "InternalServerError", {"message": "Internal server error"}


def create(api, title: str) -> dict:
    response = api.post("/api/v1/books", {"title": title, "author": "Author"})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_search_retries_the_keys_its_batched_read_left_unprocessed(
    dynamodb,
    pauses,  # noqa: F811 (the fixture)
    as_editor,
):
    create(as_editor, "Moby Dick")
    unprocessed = Fault(
        "BatchGetItem",
        lambda body: (200, None, {"Responses": {}, "UnprocessedKeys": body["RequestItems"]}),
        times=1,
    )
    assert titles(as_editor, "moby") == ["Moby Dick"]
    assert unprocessed.answered == 1 and unprocessed.sent == 2 and pauses == [1]


@pytest.mark.usefixtures("no_backoff")
def test_an_edit_that_stops_after_its_terms_changes_no_search(dynamodb, as_editor):
    book = create(as_editor, "Moby Dick")
    fault = Fault("UpdateItem", unavailable)
    response = as_editor.patch(f"/api/v1/books/{book['id']}", {"title": "White Whale"})
    assert response.status_code == 503
    # The new terms are written; the book is not: it is found as it is, not as it was to be.
    assert titles(as_editor, "whale") == []
    assert titles(as_editor, "moby") == ["Moby Dick"]
    fault.stop()
    response = as_editor.patch(f"/api/v1/books/{book['id']}", {"title": "White Whale"})
    assert response.status_code == 200
    assert titles(as_editor, "whale") == ["White Whale"]
    assert titles(as_editor, "moby") == []


@pytest.mark.usefixtures("no_backoff")
def test_a_create_that_stops_after_its_terms_leaves_nothing_found(dynamodb, as_editor):
    fault = Fault("TransactWriteItems", unavailable)
    response = as_editor.post("/api/v1/books", {"title": "Ghost", "author": "Nobody"})
    assert response.status_code == 503
    fault.stop()
    assert titles(as_editor, "ghost") == []
    create(as_editor, "Ghost story")
    assert titles(as_editor, "ghost") == ["Ghost story"]


@pytest.mark.usefixtures("no_backoff")
def test_a_delete_that_stops_half_way_hides_the_book_and_a_retry_finishes(dynamodb, as_editor):
    book = create(as_editor, "Moby Dick")
    url = f"/api/v1/books/{book['id']}"
    # The chapters' and slots' batches go through (there are none); the last transaction fails.
    fault = Fault("TransactWriteItems", lambda body: unavailable(body) if _deletes(body) else None)
    assert as_editor.delete(url).status_code == 503
    assert titles(as_editor, "moby") == []  # being deleted: hidden
    fault.stop()
    assert as_editor.delete(url).status_code == 204
    assert titles(as_editor, "moby") == []


def _deletes(body) -> bool:
    return all("Delete" in item for item in body["TransactItems"]) and any(
        item["Delete"]["Key"]["sk"]["S"] == "book" for item in body["TransactItems"]
    )


@pytest.mark.django_db
def test_obsolete_terms_put_again_by_a_later_write_are_kept(dynamodb):
    """A rename deletes the terms the book no longer has only if no later write has put them
    again: renamed A -> B -> A, the first rename's late delete of A's terms keeps them."""
    from datetime import UTC, datetime

    from django.conf import settings

    from books.domain import EVERY_BOOK, Book
    from books.repository import get_repository
    from books.repository.dynamodb.search import delete_terms, write_terms

    repo = get_repository()
    book = repo.book_create(Book(title="Alpha", author="X", owner=1, created_at=datetime.now(UTC)))
    renamed = repo.book_update(book.replace(title="Beta"), expected_version=1)
    back = repo.book_update(renamed.replace(title="Alpha"), expected_version=2)
    calls, table = repo.calls, settings.VOJ_BOOKS_TABLE  # type: ignore[attr-defined]
    # The first rename's delete, arriving late: Alpha's terms are now at version 3.
    delete_terms(calls, table, book, renamed)
    assert [
        b.title for b in repo.book_search(query="alpha", visible=EVERY_BOOK, limit=5).items
    ] == ["Alpha"]
    # Written again at the stored version, they are the same items: idempotent.
    write_terms(calls, table, back)
    assert len(repo.book_search(query="alpha", visible=EVERY_BOOK, limit=5).items) == 1
