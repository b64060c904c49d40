"""The prod-like mode (`make run-aws`, deploy/local/aws.py): Ctrl-C is a clean stop, and a run
leaves no operator database behind for the next one to publish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from deploy.local import aws
from deploy.local.aws import app_environment
from deploy.local.dynamodb import unavailable
from deploy.local.processes import free_ports, wait_for
from deploy.local.seaweedfs import weed_binary
from tests.deploy.local.processes import alive, children, wait_gone
from tests.substrates import substrate_missing

ROOT = Path(__file__).resolve().parents[3]


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def app_environ(pids: list[int]) -> dict[str, str]:
    """The environment of the runserver among ``pids``."""
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"runserver" in command:
                pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
        except FileNotFoundError:
            continue
    raise AssertionError("no runserver among the mode's processes")


def as_a_terminal_starts_it() -> None:
    """Its own process group with SIGINT at its default, as a shell in a terminal leaves it
    (a background test worker may have inherited SIGINT ignored)."""
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_app_environment_keeps_the_operator_database_in_the_runs_directory(tmp_path):
    env = app_environment(
        endpoint="http://127.0.0.1:1", dynamodb_endpoint="x", port=1, password="p", work=tmp_path
    )
    assert env["VOJ_OPSDB_PATH"] == str(tmp_path / "operator.sqlite3")
    assert env["VOJ_DATA_DIR"] == str(tmp_path)


def test_ctrl_c_stops_every_server_with_status_0_and_keeps_no_accounts(tmp_path):
    for name, reason in (
        ("DynamoDB Local", unavailable()),
        ("SeaweedFS", None if weed_binary() else "no weed binary (make install)"),
    ):
        if reason is not None:
            substrate_missing(name, reason)
    port, moto_port = free_ports(2)
    command = [sys.executable, "-m", "deploy.local.aws", "run", "--port", str(port)]
    run = subprocess.Popen(
        [*command, "--moto-port", str(moto_port)],
        cwd=ROOT,
        env={**os.environ, "VOJ_DATA_DIR": str(tmp_path), "VOJ_DEMO_PASSWORD": "demo-pw-1234"},
        stdout=subprocess.DEVNULL,
        preexec_fn=as_a_terminal_starts_it,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v1/health", seconds=300, server=run)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10)
        servers = descendants(run.pid)
        working_copy = Path(app_environ(servers)["VOJ_OPSDB_PATH"])
        assert working_copy.exists()  # the demo accounts, migrated and published
        assert not working_copy.is_relative_to(tmp_path)

        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
        assert run.wait(timeout=60) == 0
        assert wait_gone(servers) == []
        assert not working_copy.parent.exists()
        assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["moto.log"]
    finally:
        if alive(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()


@pytest.fixture
def no_servers(monkeypatch):
    """run() with its servers left out: only its handling of the app and of signals."""
    monkeypatch.setattr(aws, "start_servers", lambda servers, port, moto_port, work: {})
    monkeypatch.setattr(aws, "prepare_app", lambda env: None)

    def serve(command: list[str]):
        monkeypatch.setattr(aws, "serve", lambda env, port: subprocess.Popen(command))

    return serve


def test_sigterm_is_a_clean_stop_too(no_servers):
    """SIGTERM (as `kill`, or deploy/ci_smoke.sh, sends it) ends the app and answers 0: make
    reported the app's -15 as `Error 241`."""
    no_servers(["sleep", "60"])
    before = signal.getsignal(signal.SIGTERM)
    threading.Timer(1, os.kill, (os.getpid(), signal.SIGTERM)).start()
    assert aws.run(1, 2) == 0
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_app_that_ends_by_itself_gives_its_status(no_servers):
    no_servers([sys.executable, "-c", "raise SystemExit(3)"])
    assert aws.run(1, 2) == 3
