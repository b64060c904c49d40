"""Request budgets on DynamoDB: one catalogue request for a listener's book or page of books
(plus the heads' chapter counts), one more for the book wherever a chapter is read (its status
decides what a listener sees), no Scan, and the table of requests per API call in
docs/configuration.md exactly as measured."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import book_publish, chapter_create, chapter_url, published_chapter
from tests.images import image_bytes
from voj.aws import aws_client

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


class Requests:
    """Counts the DynamoDB operations the application sends (botocore's event system)."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.security: list[str] = []
        client = aws_client("dynamodb")
        client.meta.events.register("provide-client-params.dynamodb.*", self._count)

    def _count(self, params, event_name, **kwargs):
        from django.conf import settings

        operation = event_name.rsplit(".", 1)[-1]
        if params.get("TableName") == settings.VOJ_SECURITY_TABLE:
            self.security.append(operation)
        self.operations.append(operation)

    def during(self, call):
        self.operations.clear()
        self.security.clear()
        response = call()
        assert response.status_code < 400, response.content
        return list(self.operations)

    def catalogue_during(self, call):
        """The requests to the catalogue tables alone."""
        operations = self.during(call)
        for operation in self.security:
            operations.remove(operation)
        return operations


def documented_requests() -> dict[str, list[str]]:
    """The table in docs/configuration.md: API call -> operations, in order."""
    text = DOCS.read_text()
    section = text[text.index("DynamoDB requests per API call") :]
    table: dict[str, list[str]] = {}
    for line in section.splitlines()[1:]:
        if table and not line.startswith("|"):
            break
        match = re.fullmatch(r"\| (`[^|]+`[^|]*) \| ([^|]+) \|", line)
        if match:
            operations = re.sub(r"\([^)]*\)", "", match.group(2))
            table[match.group(1).strip()] = [op.strip() for op in operations.split(",")]
    return table


@pytest.fixture
def ready(dynamodb, db, as_editor):
    chapter = published_chapter(as_editor)
    book_publish(as_editor, chapter["book_id"])
    return chapter


def cover_granted_and_uploaded(api, book_id: str):
    """The cover's grant (what is measured), and the upload through it (the object store's)."""
    content = image_bytes(400, 400)
    response = api.post(
        f"/api/v1/books/{book_id}/cover",
        {"filename": "c.jpg", "content_type": "image/jpeg", "size_bytes": len(content)},
    )
    assert api.upload(response.json()["upload"], content).status_code == 204
    return response


def test_the_documented_requests_per_call_are_the_measured_ones(
    ready, as_editor, as_listener, as_operator
):
    requests = Requests()
    book = ready["book_id"]
    other = chapter_create(as_editor, {"id": book}, size=10)["chapter"]
    calls = {
        "`GET /api/v1/books/{id}/chapters/{id}/stream-url`": lambda: as_listener.get(
            chapter_url(ready) + "/stream-url"
        ),
        "`GET /api/v1/audio/{id}/stream-url`": lambda: as_listener.get(
            f"/api/v1/audio/{ready['id']}/stream-url"
        ),
        "`GET /api/v1/books` (a listener)": lambda: as_listener.get("/api/v1/books"),
        "`GET /api/v1/books` (an editor)": lambda: as_editor.get("/api/v1/books"),
        "`GET /api/v1/books` (staff)": lambda: as_operator.get("/api/v1/books"),
        "`GET /api/v1/books?q=` (one word)": lambda: as_listener.get("/api/v1/books?q=book"),
        "`GET /api/v1/books?q=` (two words)": lambda: as_listener.get(
            "/api/v1/books?q=book+author"
        ),
        "`POST /api/v1/books`": lambda: as_editor.post(
            "/api/v1/books", {"title": "New", "author": "Author"}
        ),
        "`PATCH /api/v1/books/{id}` (title)": lambda: as_editor.patch(
            f"/api/v1/books/{book}", {"title": "Retitled"}
        ),
        "`GET /api/v1/books/{id}`": lambda: as_listener.get(f"/api/v1/books/{book}"),
        "`GET /api/v1/books/{id}/chapters`": lambda: as_listener.get(
            f"/api/v1/books/{book}/chapters"
        ),
        "`GET /api/v1/books/{id}/chapters/{id}`": lambda: as_listener.get(chapter_url(ready)),
        "`PATCH /api/v1/books/{id}/chapters/{id}` (title)": lambda: as_editor.patch(
            chapter_url(ready), {"title": "Renamed"}
        ),
        "`PATCH /api/v1/books/{id}/chapters/{id}` (number)": lambda: as_editor.patch(
            chapter_url(ready), {"number": 7}
        ),
        "`POST /api/v1/books/{id}/chapters`": lambda: as_editor.post(
            f"/api/v1/books/{book}/chapters",
            {
                "title": "Third",
                "filename": "c.m4a",
                "content_type": "audio/mp4",
                "size_bytes": 10,
            },
        ),
        "`DELETE /api/v1/books/{id}/chapters/{id}`": lambda: as_editor.delete(chapter_url(other)),
        "`POST /api/v1/books/{id}/unpublish`": lambda: as_editor.post(
            f"/api/v1/books/{book}/unpublish"
        ),
        "`POST /api/v1/books/{id}/publish`": lambda: as_editor.post(
            f"/api/v1/books/{book}/publish"
        ),
        "`POST /api/v1/books/{id}/cover`": lambda: cover_granted_and_uploaded(as_editor, book),
        "`POST /api/v1/books/{id}/cover/complete`": lambda: as_editor.post(
            f"/api/v1/books/{book}/cover/complete"
        ),
        "`DELETE /api/v1/books/{id}/cover`": lambda: as_editor.delete(
            f"/api/v1/books/{book}/cover"
        ),
        "`PUT /api/v1/me/progress/{id}`": lambda: as_listener.put(
            f"/api/v1/me/progress/{book}",
            {
                "chapter_id": ready["id"],
                "position_seconds": 1.0,
                "updated_at": datetime.now(UTC).isoformat(),
                "device": "phone",
            },
        ),
        "`GET /api/v1/me/progress`": lambda: as_listener.get("/api/v1/me/progress"),
    }
    documented = documented_requests()
    assert set(documented) == set(calls)
    measured = {name: requests.during(call) for name, call in calls.items()}
    assert measured == documented, measured


def test_a_listeners_reads(ready, as_listener):
    requests = Requests()
    book = ready["book_id"]
    stream_url = f"/api/v1/audio/{ready['id']}/stream-url"
    # The chapter by id, then its book's head: whether the listener may play it is the book's
    # status (and owner), which the small head carries; never the book item.
    assert requests.catalogue_during(lambda: as_listener.get(stream_url)) == ["Query", "GetItem"]
    # stream-url checks the token without the operator database: one small read of the
    # account's change record (voj/security/authentication.py) stands in for the user's row.
    assert requests.security == ["GetItem"]
    # Named with its book, the account's record, the head and the chapter are one request.
    in_book = chapter_url(ready) + "/stream-url"
    assert requests.during(lambda: as_listener.get(in_book)) == ["BatchGetItem"]
    assert requests.catalogue_during(lambda: as_listener.get(f"/api/v1/books/{book}")) == ["Query"]
    # A page of published books: one Query of their own index, however many drafts exist.
    assert requests.catalogue_during(lambda: as_listener.get("/api/v1/books")) == [
        "Query",
        "BatchGetItem",
    ]
    chapters = f"/api/v1/books/{book}/chapters"
    assert requests.catalogue_during(lambda: as_listener.get(chapters)) == ["Query", "Query"]
    assert requests.catalogue_during(lambda: as_listener.get(chapter_url(ready))) == [
        "Query",
        "GetItem",
    ]


def test_no_scan_anywhere(ready, as_editor, as_listener):
    requests = Requests()
    seen = []
    for call in (
        lambda: as_listener.get("/api/v1/books?limit=1"),
        lambda: as_editor.get("/api/v1/books?limit=1"),
        lambda: as_listener.get("/api/v1/books?q=book+author&limit=1"),
        lambda: as_editor.patch(f"/api/v1/books/{ready['book_id']}", {"title": "Other"}),
        lambda: as_editor.post(f"/api/v1/books/{ready['book_id']}/unpublish"),
        lambda: as_editor.post(f"/api/v1/books/{ready['book_id']}/publish"),
        lambda: as_listener.get(f"/api/v1/books/{ready['book_id']}/chapters"),
        lambda: as_editor.post(chapter_url(ready) + "/complete"),
        lambda: as_editor.delete(f"/api/v1/books/{ready['book_id']}"),
    ):
        seen += requests.during(call)
    assert "Scan" not in seen
