"""Request budgets on DynamoDB: one request per read on the API's hot paths, no Scan."""

from __future__ import annotations

import pytest

from tests.helpers import chapter_url, published_chapter
from voj.aws import aws_client


class Requests:
    """Counts the DynamoDB operations the application sends (botocore's event system)."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        aws_client("dynamodb").meta.events.register("before-send.dynamodb.*", self._count)

    def _count(self, event_name, **kwargs):
        self.operations.append(event_name.rsplit(".", 1)[-1])

    def during(self, call):
        self.operations.clear()
        response = call()
        assert response.status_code < 400, response.content
        return list(self.operations)


@pytest.fixture
def ready(dynamodb_tables, db, as_editor):
    return published_chapter(as_editor)


def test_reads_cost_one_request(ready, as_listener):
    requests = Requests()
    book = ready["book_id"]
    assert requests.during(lambda: as_listener.get(f"/api/v1/audio/{ready['id']}/stream-url")) == [
        "Query"
    ]
    assert requests.during(lambda: as_listener.get(f"/api/v1/books/{book}")) == ["GetItem"]
    assert requests.during(lambda: as_listener.get(f"/api/v1/books/{book}/chapters")) == ["Query"]
    assert requests.during(lambda: as_listener.get(chapter_url(ready))) == ["Query"]
    assert requests.during(lambda: as_listener.get("/api/v1/books")) == ["Query"]


def test_a_chapter_write_reads_once(ready, as_editor):
    requests = Requests()
    operations = requests.during(lambda: as_editor.patch(chapter_url(ready), {"title": "Renamed"}))
    # The book (ownership), the chapter by id and then consistently, one conditional write.
    assert operations == ["GetItem", "Query", "GetItem", "PutItem"]


def test_no_scan_anywhere(ready, as_editor, as_listener):
    requests = Requests()
    seen = []
    for call in (
        lambda: as_listener.get("/api/v1/books?limit=1"),
        lambda: as_listener.get(f"/api/v1/books/{ready['book_id']}/chapters"),
        lambda: as_editor.post(chapter_url(ready) + "/complete"),
        lambda: as_editor.delete(f"/api/v1/books/{ready['book_id']}"),
    ):
        seen += requests.during(call)
    assert "Scan" not in seen
