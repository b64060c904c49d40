"""The throwaway PostgreSQL of the tests and `make smoke-aws-postgres` ends with its starter."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from deploy.dynamodb_local import ROOT
from tests.deploy.test_dynamodb_local import alive, wait_gone
from tests.postgres import postgres_unavailable

pytestmark = pytest.mark.postgres


def test_a_killed_starter_leaves_no_postgres_behind():
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from deploy.postgres_local import PostgresLocal\n"
            "import time\n"
            "local = PostgresLocal(); local.start()\n"
            "print(local.process.pid, flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        postmaster = int(starter.stdout.readline())
        assert alive(postmaster)
    finally:
        starter.send_signal(signal.SIGKILL)
        starter.wait()
    assert wait_gone([postmaster]) == []
