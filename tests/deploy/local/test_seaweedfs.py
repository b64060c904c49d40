"""The SeaweedFS server the tests and `make run-aws` start (deploy/local/seaweedfs.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from deploy.local.seaweedfs import PORTS, SeaweedFS


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket the process listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            address, port = local.split(":")
            if width == 8:
                host = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                host = "::1" if address == "0" * 24 + "01000000" else address
            found.append((host, int(port, 16)))
    return found


def test_every_listener_is_on_the_loopback(seaweedfs_server):
    sockets = listening_sockets(seaweedfs_server.process.pid)
    assert sorted(port for _, port in sockets) == sorted(seaweedfs_server.ports.values())
    assert {host for host, _ in sockets} == {"127.0.0.1"}
    assert set(seaweedfs_server.ports) == set(PORTS)


def test_signatures_are_checked_and_sse_s3_is_on(seaweedfs_server):
    client = seaweedfs_server.client()
    client.create_bucket(Bucket="voj-sse-test")
    try:
        put = client.put_object(
            Bucket="voj-sse-test", Key="k", Body=b"x", ServerSideEncryption="AES256"
        )
        assert put["ServerSideEncryption"] == "AES256"
        head = client.head_object(Bucket="voj-sse-test", Key="k")
        assert head["ServerSideEncryption"] == "AES256"

        stranger = seaweedfs_server.client(secret_key="not-the-secret")
        with pytest.raises(ClientError) as refusal:
            stranger.get_object(Bucket="voj-sse-test", Key="k")
        assert refusal.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        client.delete_object(Bucket="voj-sse-test", Key="k")
        client.delete_bucket(Bucket="voj-sse-test")


def test_stop_ends_the_server_and_removes_its_files(seaweedfs_server):
    server = SeaweedFS.start()
    sockets = [
        Path(f"/tmp/seaweedfs-{name}-grpc-{server.ports[f'{name}.port.grpc']}.sock")
        for name in ("master", "volume", "filer", "s3")
    ]
    assert server.data_dir.is_dir()
    server.stop()
    assert server.process.poll() is not None
    assert not server.data_dir.exists()
    assert not any(path.exists() for path in sockets)
