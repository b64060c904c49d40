"""What real DynamoDB does and no emulator does, injected at botocore's event hooks: throttling,
transactions cancelled by overlapping ones, writes refused during a transaction, unprocessed
batch items, global indexes that lag behind the table, and races with a book delete."""

from __future__ import annotations

import json

import pytest
from moto.core.botocore_stubber import MockRawResponse

from streaming.stores import get_object_store
from tests.conftest import fixture_bytes
from tests.helpers import book_create, chapter_create, chapter_url
from voj.aws import aws_client


class Throttle:
    """Answers the first ``times`` DynamoDB requests with ThrottlingException, before they
    reach moto; botocore's retry handler sees a real throttling response."""

    BODY = (
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException",'
        b'"message":"Rate of requests exceeds the allowed throughput."}'
    )

    def __init__(self, client, times: int) -> None:
        self.left = times
        self.sent = 0
        client.meta.events.register_first("before-send.dynamodb.*", self)

    def __call__(self, request, **kwargs):
        from botocore.awsrequest import AWSResponse

        self.sent += 1
        if self.left <= 0:
            return None
        self.left -= 1
        return AWSResponse(
            request.url,
            400,
            {"x-amzn-ErrorType": "ThrottlingException"},
            MockRawResponse(self.BODY),
        )


@pytest.fixture
def no_backoff(monkeypatch):
    """Takes the waiting out of retries (backoff and adaptive mode's token bucket); which
    requests are retried, and how often, is still botocore's decision."""
    from botocore.retries import adaptive, standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    monkeypatch.setattr(
        adaptive.ClientRateLimiter, "on_sending_request", lambda self, request, **kw: None
    )


def test_throttling_is_retried(no_backoff, dynamodb, as_editor):
    book = book_create(as_editor)
    throttle = Throttle(aws_client("dynamodb"), times=2)
    response = as_editor.get(f"/api/v1/books/{book['id']}")
    assert response.status_code == 200
    assert throttle.sent == 3


def test_persistent_throttling_is_503(no_backoff, dynamodb, as_editor):
    book = book_create(as_editor)
    throttle = Throttle(aws_client("dynamodb"), times=100)
    response = as_editor.get(f"/api/v1/books/{book['id']}")
    assert response.status_code == 503
    assert response.json()["code"] == "repository_busy"
    assert throttle.sent == 5  # adaptive mode, five attempts in all
    listing = as_editor.get("/api/v1/books")
    assert listing.status_code == 503
    throttle.left = 0  # the fixture's clean-up goes through


def test_dynamodb_unreachable_is_503(db, settings, as_editor, monkeypatch, no_backoff):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.VOJ_DATA_BACKEND = "dynamodb"
    settings.VOJ_AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    response = as_editor.get("/api/v1/books")
    assert response.status_code == 503
    assert response.json()["code"] == "repository_unavailable"


# --- what DynamoDB does and no emulator does -------------------------------------------------


def _json(body: dict) -> bytes:
    return json.dumps(body).encode()


class Fault:
    """Answers matching DynamoDB calls itself, so they never reach the store (botocore's
    ``before-call`` event; every ``before-send`` handler runs, moto's included). ``answer`` gets
    the call's request body and returns (status, error code or None, body), or None to let the
    call through."""

    def __init__(self, operation: str, answer, times: int = 1_000_000) -> None:
        self.answer = answer
        self.left = times
        self.sent = 0
        self.answered = 0
        aws_client("dynamodb").meta.events.register_first(f"before-call.dynamodb.{operation}", self)

    def __call__(self, params, **kwargs):
        from botocore.awsrequest import AWSResponse

        self.sent += 1
        if self.left <= 0:
            return None
        outcome = self.answer(json.loads(params["body"]))
        if outcome is None:
            return None
        self.left -= 1
        self.answered += 1
        status, error_code, body = outcome
        parsed = {**body, "ResponseMetadata": {"HTTPStatusCode": status}}
        if error_code:
            parsed["Error"] = {"Code": error_code, "Message": body.pop("message", "")}
            parsed.pop("message", None)
        http = AWSResponse(params["url"], status, {}, MockRawResponse(_json(body)))
        return http, parsed

    def stop(self) -> None:
        self.left = 0


def cancelled(reason: str):
    """A transaction cancelled for ``reason`` on its first item, as DynamoDB reports it."""

    def answer(body):
        reasons = [{"Code": reason}] + [{"Code": "None"}] * (len(body["TransactItems"]) - 1)
        return (
            400,
            "TransactionCanceledException",
            {
                "message": f"Transaction cancelled [{reason}]",
                "CancellationReasons": reasons,
            },
        )

    return answer


def blocked_by_a_transaction(body):
    return (
        400,
        "TransactionConflictException",
        {
            "message": "Transaction is ongoing for the item",
        },
    )


def nothing_processed(body):
    return 200, None, {"UnprocessedItems": body["RequestItems"]}


@pytest.fixture
def pauses(monkeypatch) -> list[int]:
    """The repository's own backoffs, recorded instead of slept."""
    from books.repository.dynamodb import calls

    seen: list[int] = []
    monkeypatch.setattr(calls, "pause", seen.append)
    return seen


def test_backoff_is_jittered_exponential_and_bounded():
    from books.repository.dynamodb.calls import BACKOFF_BASE, BACKOFF_CAP, backoff

    for attempt in range(12):
        bound = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
        delays = {backoff(attempt) for _ in range(50)}
        assert all(0 <= delay <= bound for delay in delays)
        assert len(delays) > 1  # jittered
    assert BACKOFF_CAP <= 1.0


@pytest.mark.parametrize("reason", ["TransactionConflict", "ThrottlingError"])
def test_a_cancelled_transaction_is_retried(dynamodb, pauses, as_editor, reason):
    book = book_create(as_editor)
    fault = Fault("TransactWriteItems", cancelled(reason), times=2)
    chapter_create(as_editor, book, size=10)
    assert fault.sent == 3
    assert pauses == [0, 1]
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 1


@pytest.mark.parametrize("reason", ["TransactionConflict", "ThrottlingError"])
def test_a_transaction_cancelled_all_along_is_busy_not_a_conflict(
    dynamodb, pauses, as_editor, reason
):
    book = book_create(as_editor)
    chapter = chapter_create(as_editor, book, size=10)["chapter"]
    fault = Fault("TransactWriteItems", cancelled(reason))
    create = as_editor.post(
        f"/api/v1/books/{book['id']}/chapters",
        {"title": "x", "filename": "x.m4a", "content_type": "audio/mp4", "size_bytes": 10},
    )
    assert create.status_code == 503, create.content
    assert create.json()["code"] == "repository_busy"
    renumber = as_editor.patch(chapter_url(chapter), {"number": 5})
    assert (renumber.status_code, renumber.json()["code"]) == (503, "repository_busy")
    delete = as_editor.delete(chapter_url(chapter))
    assert (delete.status_code, delete.json()["code"]) == (503, "repository_busy")
    assert len(pauses) == 3 * 4  # five attempts for each
    fault.stop()
    # Nothing changed, and a truly stale version is still a conflict.
    listed = as_editor.get(f"/api/v1/books/{book['id']}/chapters").json()["results"]
    assert [(c["id"], c["number"]) for c in listed] == [(chapter["id"], 1)]
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["chapter_count"] == 1
    stale = as_editor.patch(chapter_url(chapter), {"number": 5, "version": 9})
    assert (stale.status_code, stale.json()["code"]) == (409, "version_conflict")


def test_a_write_refused_during_a_transaction_is_retried(dynamodb, pauses, as_editor):
    book = book_create(as_editor)
    chapter = chapter_create(as_editor, book, size=10)["chapter"]
    fault = Fault("PutItem", blocked_by_a_transaction, times=2)
    response = as_editor.patch(chapter_url(chapter), {"title": "Renamed"})
    assert response.status_code == 200, response.content
    assert fault.sent == 3
    Fault("PutItem", blocked_by_a_transaction)
    response = as_editor.patch(chapter_url(chapter), {"title": "Again"})
    assert (response.status_code, response.json()["code"]) == (503, "repository_busy")


def test_too_large_an_item_is_a_400_error(dynamodb):
    from books.domain import Book, Chapter
    from books.errors import ItemTooLarge
    from books.repository import get_repository

    repository = get_repository()
    book = repository.book_create(Book(title="t", author="a", owner=1))
    with pytest.raises(ItemTooLarge):
        repository.book_update(book.replace(description="가" * 150_000), expected_version=1)
    with pytest.raises(ItemTooLarge):
        repository.chapter_create(Chapter(book_id=book.id, number=1, title="나" * 150_000))
    assert repository.book_get(book.id) == book
    assert ItemTooLarge.status_code == 400


def test_unprocessed_batch_items_are_retried_with_backoff(dynamodb, pauses, as_editor):
    book = book_create(as_editor)
    for _ in range(3):
        chapter_create(as_editor, book, size=10)
    fault = Fault("BatchWriteItem", nothing_processed, times=3)
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    assert fault.answered == 3
    assert pauses == [1, 2, 3]  # growing, then the batch goes through
    assert as_editor.get(f"/api/v1/books/{book['id']}").status_code == 404


def test_a_book_delete_that_fails_half_way_is_finished_by_retrying(
    dynamodb, pauses, as_editor, as_listener, console
):
    content = fixture_bytes("tone-faststart.m4a")
    book = book_create(as_editor)
    chapters = []
    for _ in range(30):  # two batches of chapters
        created = chapter_create(as_editor, book, size=len(content))
        chapters.append(created["chapter"])
    as_editor.upload(created["upload"], content)
    assert as_editor.post(chapter_url(chapters[-1]) + "/complete").json()["status"] == "ready"
    assert as_editor.post(f"/api/v1/books/{book['id']}/publish").status_code == 200
    from books.repository import get_repository

    audio = get_repository().chapter_get(book["id"], chapters[-1]["id"]).object_key
    store = get_object_store()
    assert audio.startswith("media/") and store.head(audio) is not None
    # The first batch of chapters goes; then DynamoDB processes nothing more.
    fault = Fault(
        "BatchWriteItem", lambda body: nothing_processed(body) if fault.sent > 1 else None
    )
    response = as_editor.delete(f"/api/v1/books/{book['id']}")
    assert (response.status_code, response.json()["code"]) == (503, "repository_busy")
    # Half-way: the book is still there with what is left of it, and takes no new chapter.
    assert as_listener.get(f"/api/v1/books/{book['id']}").status_code == 200
    left = as_editor.get(f"/api/v1/books/{book['id']}/chapters?limit=100").json()["results"]
    assert 0 < len(left) < 30
    late = as_editor.post(
        f"/api/v1/books/{book['id']}/chapters",
        {"title": "x", "filename": "x.m4a", "content_type": "audio/mp4", "size_bytes": 10},
    )
    assert (late.status_code, late.json()["code"]) == (404, "book_not_found")
    fault.stop()
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    assert as_listener.get(f"/api/v1/books/{book['id']}").status_code == 404
    assert as_listener.get(f"/api/v1/books/{book['id']}/chapters").status_code == 404
    for chapter in chapters:
        assert as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url").status_code == 404
    pending = console.get("/admin/catalogue/chapters/?status=pending_upload").content.decode()
    assert not any(chapter["id"] in pending for chapter in chapters)
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 404
    # No audio is left behind, whichever batch its chapter was in.
    assert store.head(audio) is None


def _during_book_delete(action):
    """Runs ``action`` once, just before the book delete's first batch of deletes is sent:
    after the delete has read the chapters, before it removes them."""
    outcome: list = []

    def race(body):
        if not outcome:
            outcome.append(None)
            try:
                outcome[0] = action()
            except Exception as error:
                outcome[0] = error
        return None

    Fault("BatchWriteItem", race)
    return outcome


def _chapter_items(book_id: str) -> list:
    from django.conf import settings

    return aws_client("dynamodb").query(
        TableName=settings.VOJ_CHAPTERS_TABLE,
        KeyConditionExpression="book_id = :b",
        ExpressionAttributeValues={":b": {"S": book_id}},
        ConsistentRead=True,
    )["Items"]


def test_a_renumber_racing_a_book_delete_leaves_no_orphan(dynamodb, as_editor):
    from books.errors import BookNotFound
    from books.repository import get_repository

    repository = get_repository()
    book = book_create(as_editor)
    created = chapter_create(as_editor, book, size=10)["chapter"]
    chapter = repository.chapter_get(book["id"], created["id"])
    outcome = _during_book_delete(
        lambda: repository.chapter_update(chapter.replace(number=9), previous=chapter)
    )
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    assert isinstance(outcome[0], BookNotFound), outcome
    assert _chapter_items(book["id"]) == []
    assert as_editor.get(f"/api/v1/audio/{created['id']}/stream-url").status_code == 404


def test_a_chapter_create_racing_a_book_delete_leaves_no_orphan(dynamodb, as_editor):
    from books.domain import Chapter
    from books.errors import BookNotFound
    from books.repository import get_repository

    repository = get_repository()
    book = book_create(as_editor)
    chapter_create(as_editor, book, size=10)
    outcome = _during_book_delete(
        lambda: repository.chapter_create(Chapter(book_id=book["id"], number=2, title="late"))
    )
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    assert isinstance(outcome[0], BookNotFound), outcome
    assert _chapter_items(book["id"]) == []


class LaggingIndexes:
    """Global secondary indexes that have not caught up: every Query of one finds nothing.
    The local index (a book's chapters in order) is consistent and is left alone."""

    def __init__(self) -> None:
        self.queried: list[str] = []
        Fault("Query", self._answer)

    def _answer(self, body):
        from books.repository.tables import CHAPTERS_BY_NUMBER_INDEX

        index = body.get("IndexName")
        if index is None or index == CHAPTERS_BY_NUMBER_INDEX:
            return None
        self.queried.append(index)
        return 200, None, {"Items": [], "Count": 0, "ScannedCount": 0}


def test_write_paths_never_read_a_global_index(dynamodb, as_editor, console):
    content = fixture_bytes("tone-faststart.m4a")
    book = book_create(as_editor)
    first = chapter_create(as_editor, book, size=len(content))
    second = chapter_create(as_editor, book, size=10)["chapter"]
    third = chapter_create(as_editor, book, size=10)["chapter"]
    lag = LaggingIndexes()
    chapter = first["chapter"]

    renamed = as_editor.patch(chapter_url(chapter), {"title": "Renamed"})
    assert renamed.status_code == 200, renamed.content
    moved = as_editor.patch(chapter_url(chapter), {"number": 7})
    assert (moved.status_code, moved.json()["number"]) == (200, 7)
    assert as_editor.upload(first["upload"], content).status_code == 204
    completed = as_editor.post(chapter_url(chapter) + "/complete")
    assert (completed.status_code, completed.json()["status"]) == (200, "ready")
    renewed = as_editor.post(
        chapter_url(second) + "/upload",
        {"filename": "new.m4a", "content_type": "audio/mp4", "size_bytes": 20},
    )
    assert renewed.status_code == 200, renewed.content
    assert as_editor.delete(chapter_url(third)).status_code == 204
    listed = as_editor.get(f"/api/v1/books/{book['id']}/chapters").json()["results"]
    assert [c["number"] for c in listed] == [2, 7]
    assert lag.queried == []
    # The console's delete, from its confirmation page.
    url = f"/admin/catalogue/books/{book['id']}/delete/"
    assert console.get(url).status_code == 200
    assert console.post(url).status_code == 302
    # The one index read: forgetting the listeners' progress in the deleted book, which can
    # only be found through listening's by-book index (tests/listening/test_deletion.py shows
    # that what it misses while it lags is forgotten later).
    assert lag.queried == ["by-book"]
    lag.queried.clear()
    assert _chapter_items(book["id"]) == []
    # The hook works: the listener's lookup by id, a GSI, finds nothing while it lags.
    assert as_editor.get(f"/api/v1/audio/{chapter['id']}/stream-url").status_code == 404
    assert lag.queried == ["chapters-by-id"]


class StaleIndex:
    """A global index a moment behind the table: each Query of ``index`` (by the partition it
    asks for) answers what it answered the first time, whatever was written since."""

    def __init__(self, index: str) -> None:
        self.index = index
        self.first: dict[str, dict] = {}
        self.asked: str | None = None
        aws_client("dynamodb").meta.events.register("after-call.dynamodb.Query", self._record)
        Fault("Query", self._answer)

    def _record(self, parsed, **kwargs):
        if self.asked is not None and self.asked not in self.first:
            self.first[self.asked] = {"Items": parsed["Items"], "Count": parsed["Count"]}
        self.asked = None

    def _answer(self, body):
        if body.get("IndexName") != self.index:
            return None
        partition = json.dumps(body["ExpressionAttributeValues"][":pk"])
        if partition in self.first:
            return 200, None, {**self.first[partition], "ScannedCount": 0}
        self.asked = partition
        return None


@pytest.mark.parametrize("change", ["unpublish", "delete"])
def test_a_listeners_list_drops_a_book_at_once_while_the_index_lags(
    dynamodb, as_editor, as_listener, change
):
    from books.repository.tables import BOOKS_BY_VISIBILITY_INDEX
    from tests.helpers import book_publish, published_chapter

    book_id = book_publish(as_editor, published_chapter(as_editor)["book_id"])["id"]
    stale = StaleIndex(BOOKS_BY_VISIBILITY_INDEX)
    listed = as_listener.get("/api/v1/books").json()["results"]
    assert [b["id"] for b in listed] == [book_id] and stale.first is not None
    if change == "unpublish":
        assert as_editor.post(f"/api/v1/books/{book_id}/unpublish").status_code == 200
    else:
        assert as_editor.delete(f"/api/v1/books/{book_id}").status_code == 204

    # The index still names the book; the head, read consistently, no longer shows it.
    assert as_listener.get("/api/v1/books").json()["results"] == []
    if change == "unpublish":  # its owner still sees the draft
        assert [b["id"] for b in as_editor.get("/api/v1/books").json()["results"]] == [book_id]


def test_a_progress_report_retries_the_keys_a_batched_read_left_unprocessed(
    dynamodb, pauses, as_editor, as_listener
):
    """The report reads its book and chapter in one BatchGetItem; keys DynamoDB leaves
    unprocessed (a throttled partition) are asked for again after a backoff."""
    from datetime import UTC, datetime

    from tests.helpers import book_publish, published_chapter

    chapter = published_chapter(as_editor)
    book_publish(as_editor, chapter["book_id"])
    unprocessed = Fault(
        "BatchGetItem",
        lambda body: (200, None, {"Responses": {}, "UnprocessedKeys": body["RequestItems"]}),
        times=1,
    )
    report = {
        "chapter_id": chapter["id"],
        "position_seconds": 1.0,
        "updated_at": datetime.now(UTC).isoformat(),
        "device": "phone",
    }
    response = as_listener.put(f"/api/v1/me/progress/{chapter['book_id']}", report)
    assert response.status_code == 200, response.content
    assert unprocessed.answered == 1 and unprocessed.sent == 2 and pauses == [1]


@pytest.mark.parametrize("changed", [False, True], ids=["current", "password changed"])
def test_a_stream_link_retries_the_keys_its_batched_read_left_unprocessed(
    dynamodb, pauses, as_editor, listener, changed
):
    """Named with its book, the stream link reads the token's account record with the book's
    head and the chapter; keys DynamoDB leaves unprocessed are asked for again, the record
    included: a token from before a password change is still refused."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from tests.helpers import chapter_url, playable_chapter

    chapter = playable_chapter(as_editor)
    token = AccessToken.for_user(listener)
    if changed:
        listener.set_password("a-new-password-2")
        listener.save()
    unprocessed = Fault(
        "BatchGetItem",
        lambda body: (200, None, {"Responses": {}, "UnprocessedKeys": body["RequestItems"]}),
        times=1,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(chapter_url(chapter) + "/stream-url")
    expected = (401, "password_changed") if changed else (200, None)
    assert (response.status_code, response.json().get("code")) == expected
    assert unprocessed.answered == 1 and unprocessed.sent == 2 and pauses == [1]
