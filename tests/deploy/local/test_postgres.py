"""The throwaway PostgreSQL of the tests and `make smoke-aws-postgres` ends with its starter."""

from __future__ import annotations

import pytest

from tests.deploy.local.processes import left_behind_by_a_killed_starter
from tests.postgres import postgres_unavailable

pytestmark = pytest.mark.postgres


def test_a_killed_starter_leaves_no_postgres_behind():
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    code = (
        "from deploy.local.postgres import PostgresLocal\n"
        "local = PostgresLocal(); local.start()\n"
        "print(local.process.pid, flush=True)"
    )
    assert left_behind_by_a_killed_starter(code, lambda postmaster: [postmaster]) == []
