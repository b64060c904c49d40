"""The progress merge rule on its own (listening/repository/dynamodb/progress.py): which write a
report makes against the stored progress (``plan``: latest, furthest, finished, and the
condition that states the case), and the loop that sends it (``record``) against scripted
DynamoDB answers, request by request. The same rule on every backend, through the repository,
is tests/listening/test_repository_contract.py; races on a real table, test_dynamodb.py.

The file's name holds no "dynamodb": `make mutate` selects tests with ``-k "not dynamodb"``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from books.errors import RepositoryBusy
from books.repository.dynamodb.calls import ConditionFailed
from listening.domain import Position, ProgressWrite
from listening.repository.dynamodb.items import item_to_progress, progress_key, report_values
from listening.repository.dynamodb.progress import ATTEMPTS, Plan, plan, record

T0 = datetime(2026, 1, 1, 8, 30, 15, 123456, tzinfo=UTC)
USER = 7
BOOK = "book-1"
TABLE = "voj-listening"
KEY = progress_key(USER, BOOK)

LATEST = "lt = :t, lc = :c, ln = :n, lp = :p, ld = :d"
FURTHEST = "ft = :t, fc = :c, fn = :n, fp = :p, fd = :d"
NEWER = "lt < :t"
NOT_NEWER = "lt >= :t"
FURTHER = "(fn < :n OR (fn = :n AND fp < :p))"
NOT_FURTHER = "(fn > :n OR (fn = :n AND fp >= :p))"


def at(number: int, seconds: float, *, micros: int = 0, device: str = "phone") -> Position:
    """A report in chapter ``number`` at ``seconds``, ``micros`` microseconds after T0."""
    return Position(
        chapter_id=f"00000000-0000-4000-8000-{number:012d}",
        chapter_number=number,
        position_seconds=seconds,
        updated_at=T0 + timedelta(microseconds=micros),
        device=device,
    )


def stored(latest: Position, furthest: Position | None = None, *, finished: bool = False):
    """The progress item as the table keeps it."""
    item: dict[str, Any] = {**KEY, "b": {"S": BOOK}, "f": {"BOOL": finished}}
    for prefix, position in (("l", latest), ("f", furthest or latest)):
        values = report_values(position)
        item.update({prefix + name: values[":" + name] for name in "tcnpd"})
    return item


# --- plan: the four cases ----------------------------------------------------------------------


@pytest.mark.parametrize("finishes", [False, True])
def test_a_first_report_creates_the_progress_if_it_is_still_new(finishes):
    report = at(2, 10.5)
    values = {**report_values(report), ":b": {"S": BOOK}, ":f": {"BOOL": finishes}}
    assert plan(None, report, finishes, BOOK) == Plan(
        f"SET b = :b, f = :f, {LATEST}, {FURTHEST}",
        "attribute_not_exists(sk)",
        values,
        applied=True,
    )


def test_newer_and_further_sets_both():
    report = at(3, 1.0, micros=1)
    assert plan(stored(at(2, 50.0)), report, False, BOOK) == Plan(
        f"SET {LATEST}, {FURTHEST}",
        f"{NEWER} AND {FURTHER}",
        report_values(report),
        applied=True,
    )


def test_a_further_report_that_finishes_sets_finished():
    report = at(3, 1.0, micros=1)
    assert plan(stored(at(2, 50.0)), report, True, BOOK) == Plan(
        f"SET {LATEST}, {FURTHEST}, f = :f",
        f"{NEWER} AND {FURTHER}",
        {**report_values(report), ":f": {"BOOL": True}},
        applied=True,
    )


@pytest.mark.parametrize("finishes", [False, True])
def test_a_newer_report_behind_sets_latest_only_and_never_finishes(finishes):
    report = at(1, 99.0, micros=60_000_000)
    assert plan(stored(at(2, 50.0)), report, finishes, BOOK) == Plan(
        f"SET {LATEST}", f"{NEWER} AND {NOT_FURTHER}", report_values(report), applied=True
    )


def test_a_late_further_report_sets_furthest_only_and_is_not_applied():
    report = at(4, 0.0, micros=-1)
    assert plan(stored(at(2, 50.0)), report, False, BOOK) == Plan(
        f"SET {FURTHEST}", f"{NOT_NEWER} AND {FURTHER}", report_values(report), applied=False
    )


def test_a_late_further_report_still_finishes():
    report = at(4, 0.0, micros=-1)
    write = plan(stored(at(2, 50.0)), report, True, BOOK)
    assert write is not None
    assert (write.update, write.values[":f"], write.applied) == (
        f"SET {FURTHEST}, f = :f",
        {"BOOL": True},
        False,
    )


@pytest.mark.parametrize("finishes", [False, True])
def test_a_late_report_behind_plans_nothing(finishes):
    assert plan(stored(at(2, 50.0)), at(2, 49.0, micros=-1), finishes, BOOK) is None


def test_the_same_report_again_plans_nothing():
    report = at(2, 50.0)
    assert plan(stored(report), report, True, BOOK) is None


@pytest.mark.parametrize(
    ("report", "newer", "further"),
    [
        (at(2, 50.0, micros=1), True, False),  # one microsecond newer
        (at(2, 50.0, micros=-1), False, False),
        (at(2, 50.000001), False, True),  # a hair further in the same chapter
        (at(2, 49.999999), False, False),
        (at(3, 0.0, micros=-1), False, True),  # a later chapter, whatever the position
        (at(1, 3600.0, micros=-1), False, False),  # an earlier one, whatever the position
    ],
)
def test_strictly_newer_and_strictly_further_at_their_boundaries(report, newer, further):
    write = plan(stored(at(2, 50.0)), report, False, BOOK)
    if not (newer or further):
        assert write is None
        return
    assert write is not None
    assert (write.applied, FURTHEST in write.update) == (newer, further)


def test_latest_and_furthest_are_compared_with_their_own_reports():
    # The stored latest is behind its furthest: time is read from one, order from the other.
    item = stored(at(1, 10.0, micros=100), at(5, 0.0, micros=-100))
    report = at(4, 0.0, micros=50)
    assert plan(item, report, False, BOOK) is None
    write = plan(item, at(5, 0.5, micros=50), False, BOOK)
    assert write is not None
    assert (write.update, write.applied) == (f"SET {FURTHEST}", False)


# --- record: the requests it sends -------------------------------------------------------------


class Calls:
    """Scripted DynamoDB answers, one per request (an exception is raised); every request kept."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def call(self, operation: str, **params: Any) -> Any:
        self.sent.append((operation, params))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def get(consistent: bool = False) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"TableName": TABLE, "Key": KEY}
    if consistent:
        params["ConsistentRead"] = True
    return ("get_item", params)


def update(write: Plan) -> tuple[str, dict[str, Any]]:
    return (
        "update_item",
        {
            "TableName": TABLE,
            "Key": KEY,
            "UpdateExpression": write.update,
            "ConditionExpression": write.condition,
            "ExpressionAttributeValues": write.values,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    )


def run(calls: Calls, report: Position, finishes: bool = False) -> ProgressWrite:
    return record(calls, TABLE, user_id=USER, book_id=BOOK, report=report, finishes=finishes)


def test_a_first_report_is_one_read_and_one_create():
    report = at(1, 5.0)
    after = stored(report, finished=True)
    calls = Calls({}, {"Attributes": after})
    assert run(calls, report, True) == ProgressWrite(item_to_progress(after), applied=True)
    create = plan(None, report, True, BOOK)
    assert create is not None
    assert calls.sent == [get(), update(create)]


def test_a_report_that_changes_nothing_is_confirmed_by_one_consistent_read_and_not_written():
    item = stored(at(2, 50.0))
    calls = Calls({"Item": item}, {"Item": item})
    assert run(calls, at(1, 0.0, micros=-1)) == ProgressWrite(item_to_progress(item), applied=False)
    assert calls.sent == [get(), get(consistent=True)]


def test_progress_the_consistent_read_finds_gone_is_started_again():
    report = at(1, 0.0, micros=-1)
    after = stored(report)
    calls = Calls({"Item": stored(at(2, 50.0))}, {}, {"Attributes": after})
    assert run(calls, report) == ProgressWrite(item_to_progress(after), applied=True)
    create = plan(None, report, False, BOOK)
    assert create is not None
    assert calls.sent == [get(), get(consistent=True), update(create)]


def test_a_failed_condition_is_decided_again_from_the_item_it_returns():
    report = at(3, 0.0, micros=20)
    newer = stored(at(2, 0.0, micros=10))
    competing = stored(at(2, 0.0, micros=30), at(5, 0.0, micros=30))  # newer and further
    calls = Calls({"Item": newer}, ConditionFailed(competing), {"Item": competing})
    assert run(calls, report) == ProgressWrite(item_to_progress(competing), applied=False)
    first = plan(newer, report, False, BOOK)
    assert first is not None
    assert calls.sent == [get(), update(first), get(consistent=True)]


def test_a_failed_condition_with_a_changed_item_retries_the_case_it_now_is():
    report = at(3, 0.0, micros=20)
    competing = stored(at(2, 0.0, micros=30))  # newer, but behind the report
    after = stored(at(2, 0.0, micros=30), report)
    calls = Calls({"Item": stored(at(2, 0.0))}, ConditionFailed(competing), {"Attributes": after})
    assert run(calls, report) == ProgressWrite(item_to_progress(after), applied=False)
    retry = plan(competing, report, False, BOOK)
    assert retry is not None
    assert calls.sent[-1] == update(retry)
    assert len(calls.sent) == 3


def test_a_failed_create_because_progress_now_exists_is_decided_again():
    report = at(1, 30.0, micros=5)
    competing = stored(at(1, 60.0, micros=4))
    after = stored(report, at(1, 60.0, micros=4))
    calls = Calls({}, ConditionFailed(competing), {"Attributes": after})
    assert run(calls, report) == ProgressWrite(item_to_progress(after), applied=True)
    assert calls.sent[-1][1]["ConditionExpression"] == f"{NEWER} AND {NOT_FURTHER}"


def test_a_failed_update_because_progress_is_gone_creates_it():
    report = at(3, 0.0, micros=20)
    after = stored(report)
    calls = Calls({"Item": stored(at(2, 0.0))}, ConditionFailed(None), {"Attributes": after})
    assert run(calls, report) == ProgressWrite(item_to_progress(after), applied=True)
    assert calls.sent[-1][1]["ConditionExpression"] == "attribute_not_exists(sk)"


def test_a_report_that_keeps_losing_its_race_is_busy_after_the_last_attempt():
    report = at(9, 0.0, micros=1_000)
    losing = [ConditionFailed(stored(at(1, 0.0, micros=i))) for i in range(ATTEMPTS)]
    calls = Calls({"Item": stored(at(1, 0.0))}, *losing)
    with pytest.raises(RepositoryBusy):
        run(calls, report)
    assert [operation for operation, _ in calls.sent] == ["get_item"] + ["update_item"] * ATTEMPTS
