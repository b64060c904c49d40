"""What listeners keep, on DynamoDB only (moto and DynamoDB Local): what a report costs, which
requests each method sends (never a Scan), races injected between a report's read and its
write, and a book's deletion in batches with unprocessed items retried. The contract itself is
tests/listening/test_repository_contract.py."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from books.domain import new_id
from listening.domain import Bookmark, Position
from listening.errors import ProgressNotFound
from listening.repository import get_listening_repository
from tests.listening.test_repository_contract import at, chapter_id
from voj.aws import aws_client, build_client

# The longest device name the API takes, in 4-byte UTF-8 characters.
WORST_DEVICE = "🎧" * 100
OTHER_WORST_DEVICE = "📱" * 100


@pytest.fixture
def repo(dynamodb):
    return get_listening_repository()


class Operations:
    """The DynamoDB operations the repository's client sends (botocore's ``before-call``)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        aws_client("dynamodb").meta.events.register("before-call.dynamodb.*", self._sent)

    def _sent(self, model, **kwargs) -> None:
        self.sent.append(model.name)

    def during(self, call) -> list[str]:
        self.sent.clear()
        call()
        return list(self.sent)


class Capacity:
    """The write units of every UpdateItem: ReturnConsumedCapacity asked for where botocore
    builds the request, ConsumedCapacity read from its answer."""

    def __init__(self) -> None:
        self.consumed: list[dict] = []
        events = aws_client("dynamodb").meta.events
        events.register("before-parameter-build.dynamodb.UpdateItem", self._ask)
        events.register("after-call.dynamodb.UpdateItem", self._read)

    @staticmethod
    def _ask(params, **kwargs) -> None:
        params["ReturnConsumedCapacity"] = "INDEXES"

    def _read(self, parsed, **kwargs) -> None:
        if "ConsumedCapacity" in parsed:
            self.consumed.append(parsed["ConsumedCapacity"])

    def of(self, call) -> dict:
        self.consumed.clear()
        call()
        assert len(self.consumed) == 1, self.consumed
        return self.consumed[0]


def item_size(item: dict) -> int:
    """An item's size as DynamoDB counts it: attribute names and values in bytes; a Number is
    about one byte per two significant digits, plus one."""

    def value_size(value: dict) -> int:
        ((kind, data),) = value.items()
        if kind == "S":
            return len(data.encode())
        if kind == "B":
            return len(data)
        if kind == "N":
            digits = Decimal(data).normalize().as_tuple().digits
            return (len(digits) + 1) // 2 + 1
        if kind == "BOOL":
            return 1
        raise AssertionError(kind)

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def stored_item(user_id: int, book_id: str) -> dict:
    from django.conf import settings

    from listening.repository.dynamodb.items import progress_key

    return aws_client("dynamodb").get_item(
        TableName=settings.VOJ_LISTENING_TABLE, Key=progress_key(user_id, book_id)
    )["Item"]


# The largest user id the user table can hand out (a BigAutoField).
BIGGEST_USER = 2**63 - 1


def worst(number: int, seconds: float, minutes: float, device: str = WORST_DEVICE) -> Position:
    return at(number, seconds, minutes=minutes, device=device)


# --- what a report costs -----------------------------------------------------------------------


def test_a_report_costs_one_write_unit_even_with_the_longest_devices(repo, dynamodb):
    capacity = Capacity()
    book = new_id()

    def record(report: Position, finishes: bool = False) -> None:
        repo.progress_record(user_id=BIGGEST_USER, book_id=book, report=report, finishes=finishes)

    first = capacity.of(lambda: record(worst(1, 10.123456789, 0)))
    # Latest and furthest from two devices, both of the longest names.
    later = [
        capacity.of(lambda: record(worst(3, 3599.987654321, 1, OTHER_WORST_DEVICE))),
        capacity.of(lambda: record(worst(2, 1234.5678901234, 2))),  # newer only
        capacity.of(lambda: record(worst(99999, 86399.99999, 1.5, OTHER_WORST_DEVICE), True)),
    ]
    size = item_size(stored_item(BIGGEST_USER, book))
    assert size < 1024, size
    if dynamodb == "dynamodb":
        pytest.skip(
            "moto answers 0.5 units for any UpdateItem, whatever the item: it does not measure "
            "(the item size above holds on both; DynamoDB Local measures the units)"
        )
    # The first report also puts the item's entry in by-book (tables.py says why).
    assert first["Table"]["CapacityUnits"] == 1.0
    assert first["GlobalSecondaryIndexes"] == {"by-book": {"CapacityUnits": 1.0}}
    assert first["CapacityUnits"] == 2.0
    for consumed in later:
        assert consumed["CapacityUnits"] == 1.0, consumed
        assert "LocalSecondaryIndexes" not in consumed
        assert "GlobalSecondaryIndexes" not in consumed


@pytest.mark.django_db
@pytest.mark.dynamodb_local
def test_the_capacity_measure_sees_a_larger_item(dynamodb_local_tables):
    """The measure above is not blind: past 1 KB, the same report costs 2 units."""
    repo = get_listening_repository()
    capacity = Capacity()
    book = new_id()
    repo.progress_record(user_id=1, book_id=book, report=worst(1, 1, 0), finishes=False)
    twice = worst(2, 2, 1, device=WORST_DEVICE * 2)
    consumed = capacity.of(
        lambda: repo.progress_record(user_id=1, book_id=book, report=twice, finishes=False)
    )
    assert consumed["CapacityUnits"] == 2.0


# --- the requests each method sends -----------------------------------------------------------


def test_a_report_is_one_read_and_at_most_one_write(repo):
    operations = Operations()
    book = new_id()

    def report(position: Position):
        return lambda: repo.progress_record(
            user_id=1, book_id=book, report=position, finishes=False
        )

    assert operations.during(report(at(2, 50, minutes=10))) == ["GetItem", "UpdateItem"]
    assert operations.during(report(at(3, 10, minutes=11))) == ["GetItem", "UpdateItem"]
    assert operations.during(report(at(9, 10, minutes=1))) == ["GetItem", "UpdateItem"]
    # Older and behind: nothing to write, and nothing written; a consistent read confirms it.
    assert operations.during(report(at(1, 0, minutes=2))) == ["GetItem", "GetItem"]
    # The same report again: neither newer nor further.
    assert operations.during(report(at(3, 10, minutes=11))) == ["GetItem", "GetItem"]


def test_a_report_that_a_stale_read_says_changes_nothing_starts_deleted_progress_again(repo):
    """The predicting read is eventually consistent: a moment after the listener deleted their
    progress it can still show it. A report it says changes nothing is checked again with a
    consistent read, and recorded."""
    import json

    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    book = new_id()
    repo.progress_record(user_id=1, book_id=book, report=at(3, 10, minutes=11), finishes=False)
    key = {"pk": {"N": "1"}, "sk": {"S": f"p#{book}"}}
    stale = aws_client("dynamodb").get_item(TableName=repo.table, Key=key)["Item"]
    repo.progress_delete(user_id=1, book_id=book)
    answered = []

    def lagging(params, **kwargs):  # the answer the read gave before the delete
        if json.loads(params["body"]).get("ConsistentRead"):
            return None
        answered.append(1)
        parsed = {"Item": stale, "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse(params["url"], 200, {}, MockRawResponse(b"{}")), parsed

    aws_client("dynamodb").meta.events.register_first("before-call.dynamodb.GetItem", lagging)

    late = at(1, 0, minutes=2)
    written = repo.progress_record(user_id=1, book_id=book, report=late, finishes=False)
    assert answered == [1]
    assert written.applied and written.progress.latest == late
    assert repo.progress_get(user_id=1, book_id=book).latest == late


def test_no_method_scans(repo):
    operations = Operations()
    book = new_id()
    mark = Bookmark(
        user_id=1, book_id=book, chapter_id=chapter_id(1), chapter_number=1, position_seconds=2.0
    )
    calls = [
        lambda: repo.progress_record(user_id=1, book_id=book, report=at(1, 1), finishes=False),
        lambda: repo.progress_get(user_id=1, book_id=book),
        lambda: repo.progress_list(user_id=1, limit=5),
        lambda: repo.bookmark_create(mark, per_book_limit=5),
        lambda: repo.bookmark_get(user_id=1, bookmark_id=mark.id),
        lambda: repo.bookmark_update(mark.replace(note="n"), expected_version=1),
        lambda: repo.bookmark_list(user_id=1, book_id=book, limit=5),
        lambda: repo.bookmark_list(user_id=1, book_id=None, limit=5),
        lambda: repo.bookmark_delete(user_id=1, bookmark_id=mark.id),
        lambda: repo.progress_delete(user_id=1, book_id=book),
        lambda: repo.book_forget(book_id=book),
        lambda: repo.user_forget(user_id=1),
    ]
    sent = [operation for call in calls for operation in operations.during(call)]
    assert "Scan" not in sent
    assert set(sent) == {
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "TransactWriteItems",
        "BatchWriteItem",
    }


# --- races between a report's read and its write ----------------------------------------------


class Competitor:
    """Another device's report, written through a client of its own once the repository's
    client is about to send its UpdateItem: after the report's predicting read, before its
    write."""

    def __init__(self, user_id: int, book_id: str, report: Position) -> None:
        from django.conf import settings

        from listening.repository.dynamodb import DynamoDBListeningRepository

        self.other = DynamoDBListeningRepository(
            client=build_client(
                "dynamodb",
                region=settings.VOJ_AWS_REGION,
                endpoint_url=settings.VOJ_AWS_ENDPOINT_URL,
            ),
            table=settings.VOJ_LISTENING_TABLE,
        )
        self.args = {"user_id": user_id, "book_id": book_id, "report": report, "finishes": False}
        self.written = False
        self.updates = 0
        aws_client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem", self)

    def __call__(self, **kwargs) -> None:
        self.updates += 1
        if not self.written:
            self.written = True
            self.other.progress_record(**self.args)


def race(repo, stored: Position | None, competing: Position, mine: Position):
    book = new_id()
    if stored:
        repo.progress_record(user_id=1, book_id=book, report=stored, finishes=False)
    competitor = Competitor(1, book, competing)
    write = repo.progress_record(user_id=1, book_id=book, report=mine, finishes=False)
    assert competitor.written
    return write, repo.progress_get(user_id=1, book_id=book), competitor.updates


def test_a_race_that_makes_my_report_moot_writes_nothing_more(repo):
    mine, competing = at(3, 0, minutes=20, device="mine"), at(4, 0, minutes=30, device="other")
    write, stored, updates = race(repo, at(2, 50, minutes=10), competing, mine)
    assert not write.applied
    assert (stored.latest, stored.furthest) == (competing, competing)
    assert write.progress == stored
    assert updates == 1  # mine failed its condition and, seeing the competitor's, stopped


def test_a_race_with_an_older_further_report_keeps_both(repo):
    mine, competing = at(3, 0, minutes=20, device="mine"), at(5, 0, minutes=15, device="other")
    write, stored, updates = race(repo, at(2, 50, minutes=10), competing, mine)
    assert write.applied
    assert (stored.latest, stored.furthest) == (mine, competing)
    assert write.progress == stored
    assert updates == 2  # predicted newer and further, retried as newer only


def test_a_race_with_a_newer_report_behind_keeps_both(repo):
    mine, competing = at(6, 0, minutes=20, device="mine"), at(1, 0, minutes=25, device="other")
    write, stored, _ = race(repo, at(2, 50, minutes=10), competing, mine)
    assert not write.applied
    assert (stored.latest, stored.furthest) == (competing, mine)
    assert write.progress == stored


def test_two_first_reports_racing_make_one_progress(repo):
    mine, competing = at(1, 30, minutes=5, device="mine"), at(1, 60, minutes=4, device="other")
    write, stored, updates = race(repo, None, competing, mine)
    assert write.applied
    assert (stored.latest, stored.furthest) == (mine, competing)
    assert updates == 2  # the create failed (the item existed), then newer only


# --- a book's deletion in batches --------------------------------------------------------------


@pytest.fixture
def pauses(monkeypatch) -> list[int]:
    """The backoffs of the batch retries, recorded instead of slept."""
    from books.repository.dynamodb import calls

    seen: list[int] = []
    monkeypatch.setattr(calls, "pause", seen.append)
    return seen


class Unprocessed:
    """DynamoDB leaving part of a batch unprocessed, as it does on a throttled partition: the
    last ``count`` requests of the first ``times`` batches are taken out before they are sent
    (``before-parameter-build``) and handed back as UnprocessedItems in the answer
    (``after-call``), in batches larger than that. What the repository sends is recorded."""

    def __init__(self, count: int, times: int) -> None:
        self.count, self.left = count, times
        self.held: list = []
        self.batches: list[list] = []
        events = aws_client("dynamodb").meta.events
        events.register("before-parameter-build.dynamodb.BatchWriteItem", self._hold)
        events.register("after-call.dynamodb.BatchWriteItem", self._hand_back)

    def _hold(self, params, **kwargs) -> None:
        ((table, requests),) = params["RequestItems"].items()
        self.batches.append([json.dumps(r, sort_keys=True, default=str) for r in requests])
        if self.left > 0 and len(requests) > self.count:
            self.left -= 1
            self.held = [table, requests[-self.count :]]
            params["RequestItems"] = {table: requests[: -self.count]}

    def _hand_back(self, parsed, **kwargs) -> None:
        if self.held:
            table, requests = self.held
            parsed["UnprocessedItems"] = {table: requests}
            self.held = []


def test_book_forget_deletes_in_batches_and_retries_what_is_unprocessed(repo, pauses):
    book, other_book = new_id(), new_id()
    for user_id in range(1, 21):
        repo.progress_record(user_id=user_id, book_id=book, report=at(1, 1), finishes=False)
        repo.progress_record(user_id=user_id, book_id=other_book, report=at(1, 1), finishes=False)
    for user_id in (1, 2):
        for i in range(4):
            repo.bookmark_create(
                Bookmark(
                    user_id=user_id,
                    book_id=book,
                    chapter_id=chapter_id(1),
                    chapter_number=1,
                    position_seconds=float(i),
                ),
                per_book_limit=4,
            )
    # 20 progress items, 8 bookmarks and 2 counters: 30 items, two batches.
    unprocessed = Unprocessed(count=4, times=2)
    repo.book_forget(book_id=book)
    sizes = [len(batch) for batch in unprocessed.batches]
    assert all(size <= 25 for size in sizes), sizes
    assert sum(sizes) == 30 + 2 * 4  # every held request sent again
    assert unprocessed.batches[1] == unprocessed.batches[0][-4:]
    assert pauses == [1, 1]  # one backoff before each retry
    for user_id in range(1, 21):
        with pytest.raises(ProgressNotFound):
            repo.progress_get(user_id=user_id, book_id=book)
        repo.progress_get(user_id=user_id, book_id=other_book)
    assert repo.bookmark_list(user_id=1, book_id=None, limit=10).items == []
    # The counters went too: the full limit is free again.
    for i in range(4):
        repo.bookmark_create(
            Bookmark(
                user_id=1,
                book_id=book,
                chapter_id=chapter_id(1),
                chapter_number=1,
                position_seconds=float(i),
            ),
            per_book_limit=4,
        )
