"""DynamoDB Local's harness: reachable on 127.0.0.1 only, listening on no interface of this
machine, and gone when its starter stops or dies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.local.dynamodb import unavailable
from tests.deploy.local.processes import children, left_behind_by_a_killed_starter

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture(autouse=True)
def _needs_dynamodb_local(dynamodb_local_server) -> None:
    """Skips (or under CI fails) with the session's reason when it cannot run here."""


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

    def namespace_and_java(namespace_side: int) -> list[int]:
        (java,) = children(namespace_side)
        return [namespace_side, java]

    code = (
        "from deploy.local.dynamodb import DynamoDBLocal\n"
        "local = DynamoDBLocal(); local.start()\n"
        "print(local._process.pid, flush=True)"
    )
    assert left_behind_by_a_killed_starter(code, namespace_and_java) == []
