"""DynamoDB Local's harness: reachable on 127.0.0.1 only, listening on no interface of this
machine, and gone when its starter stops or dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.dynamodb_local import ROOT, unavailable

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture(autouse=True)
def _needs_dynamodb_local(dynamodb_local_server) -> None:
    """Skips (or under CI fails) with the session's reason when it cannot run here."""


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def wait_gone(pids: list[int], seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_serves_on_loopback_from_a_private_network_namespace(dynamodb_local_server):
    import boto3

    local = dynamodb_local_server
    assert local.endpoint.startswith("http://127.0.0.1:")
    (java,) = children(local._process.pid)
    command = Path(f"/proc/{java}/cmdline").read_text().split("\0")
    assert command[0] == "java" and "-disableTelemetry" in command and "-inMemory" in command
    assert os.readlink(f"/proc/{java}/ns/net") != os.readlink("/proc/self/ns/net")
    # The JVM's namespace has its loopback and nothing else, so "every interface" is that.
    interfaces = [
        line.split(":")[0].strip()
        for line in Path(f"/proc/{java}/net/dev").read_text().splitlines()[2:]
    ]
    assert interfaces == ["lo"]

    client = boto3.client(
        "dynamodb",
        endpoint_url=local.endpoint,
        region_name="ap-northeast-2",
        aws_access_key_id="harness",  # DynamoDB Local keeps one database per key and region
        aws_secret_access_key="harness",
    )
    response = client.list_tables()
    assert response["TableNames"] == []
    # The server that answered is AWS's emulator (Jetty), not moto.
    assert response["ResponseMetadata"]["HTTPHeaders"]["server"].startswith("Jetty")


def test_a_killed_starter_leaves_no_jvm_behind():
    """The namespace side watches its stdin, the JVM has a parent-death signal: a test worker
    killed mid-run leaves nothing running."""
    assert unavailable() is None
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from deploy.dynamodb_local import DynamoDBLocal\n"
            "import time\n"
            "local = DynamoDBLocal(); local.start()\n"
            "print(local._process.pid, flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        namespace_side = int(starter.stdout.readline())
        (java,) = children(namespace_side)
    finally:
        starter.send_signal(signal.SIGKILL)
        starter.wait()
    assert wait_gone([namespace_side, java]) == []
