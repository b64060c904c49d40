"""Watching the local servers' processes from a test (deploy/local/processes.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


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


def left_behind_by_a_killed_starter(code: str, servers: Callable[[int], list[int]]) -> list[int]:
    """Run ``code`` (which starts a server and prints a pid) in a starter process, find the
    server's processes from that pid, SIGKILL the starter: the server processes still alive."""
    starter = subprocess.Popen(
        [sys.executable, "-c", f"{code}\nimport time\ntime.sleep(600)"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pids = servers(int(starter.stdout.readline()))
        assert pids and all(alive(pid) for pid in pids)
    finally:
        starter.send_signal(signal.SIGKILL)
        starter.wait()
    return wait_gone(pids)
