"""The shared security state: the same contract on SQL and on DynamoDB (moto), and the table
built from the stack definition with its TTL."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest

from voj.security import get_security_state


def test_the_table_has_the_stacks_ttl(dynamodb_tables, settings):
    from voj.aws import aws_client
    from voj.dynamodb_tables import stack_resources

    described = aws_client("dynamodb").describe_time_to_live(TableName=settings.VOJ_SECURITY_TABLE)
    ttl = stack_resources()["SecurityTable"]["Properties"]["TimeToLiveSpecification"]
    assert described["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": ttl["AttributeName"],
    }


def test_take_counts_up_to_the_limit(backend):
    state = get_security_state()
    assert [state.take("k", limit=3, window_seconds=60) for _ in range(3)] == [None] * 3
    wait = state.take("k", limit=3, window_seconds=60)
    assert wait is not None and 0 < wait <= 60
    assert state.count("k") == 3
    state.give_back("k")
    assert state.count("k") == 2
    assert state.take("k", limit=3, window_seconds=60) is None
    state.clear("k")
    assert state.count("k") == 0
    state.give_back("k")  # nothing to give back: no error, no negative count
    assert state.count("k") == 0


def test_marks_are_set_once_and_expire(backend):
    state = get_security_state()
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert state.mark("m", expires_at=soon) is True
    assert state.mark("m", expires_at=soon) is False
    assert state.get("m") == ""
    past = datetime.now(UTC) - timedelta(seconds=5)
    assert state.mark("gone", expires_at=past) is True
    assert state.get("gone") is None  # expired, whether or not it has been deleted yet
    assert state.mark("gone", expires_at=soon) is True


def test_put_overwrites_and_expires(backend):
    state = get_security_state()
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert state.get("v") is None
    state.put("v", value="first", expires_at=soon)
    state.put("v", value="second", expires_at=soon)  # the last write wins
    assert state.get("v") == "second"
    state.put("v", value="third", expires_at=datetime.now(UTC) - timedelta(seconds=5))
    assert state.get("v") is None
    assert state.mark("v", expires_at=soon) is True  # an expired record is free again


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "kind", ["sql", pytest.param("postgres", marks=pytest.mark.postgres), "dynamodb"]
)
def test_concurrent_takes_never_pass_the_limit(kind, request):
    """Eight threads, three attempts each, a limit of ten: exactly ten pass, also when the
    first of them race to create the count (PostgreSQL: the primary key decides)."""
    if kind == "dynamodb":
        request.getfixturevalue("dynamodb_tables")
    if kind == "postgres":
        from tests.postgres import default_database

        stack = contextlib.ExitStack()
        request.addfinalizer(stack.close)
        stack.enter_context(default_database(request.getfixturevalue("postgres_test_database")))
    state = get_security_state()
    barrier = threading.Barrier(8)
    outcomes = []

    def run():
        barrier.wait()
        for _ in range(3):
            outcomes.append(state.take("race", limit=10, window_seconds=60))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(None) == 10
    assert state.count("race") == 10


def test_never_in_the_operator_database(settings, aws, monkeypatch):
    """Even with the SQL data backend, a production operator database is not where the login
    counts go (each failed login would publish the file to S3)."""
    from types import SimpleNamespace

    from voj.security.dynamodb import DynamoDBExpiringState

    production_like = SimpleNamespace(
        VOJ_DATA_BACKEND="sql",
        VOJ_SECURITY_TABLE=settings.VOJ_SECURITY_TABLE,
        DATABASES={"default": {"ENGINE": "voj.opsdb"}},
    )
    monkeypatch.setattr("voj.security.settings", production_like)
    get_security_state.cache_clear()
    try:
        assert isinstance(get_security_state(), DynamoDBExpiringState)
    finally:
        get_security_state.cache_clear()
