"""`make run` and `make run-aws` as real processes on random ports, for tests that need the
server a newcomer gets (its settings, its static files, its password file)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from deploy.local.processes import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    data_dir: Path
    log: Path


def _clean_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without the test run's settings and demo password."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("VOJ_", "DJANGO_", "AWS_", "PYTEST_")) and name != "PORT"
    }
    return {**env, **overrides}


@contextmanager
def serving(mode: str, data_dir: Path, *, timeout: float = 180, **env: str) -> Iterator[Server]:
    """`make run` (mode "run") or `make run-aws` ("run-aws") with its data in data_dir, until the
    health endpoint answers; stopped with its whole process group afterwards."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"{mode}.log"
    command = ["make", "-s", mode, f"PORT={port}", f"MOTO_PORT={free_port()}"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_clean_environment(VOJ_DATA_DIR=str(data_dir), **env),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{mode} exited:\n{log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(url + "/api/v1/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    tail = log.read_text()[-3000:]
                    raise RuntimeError(f"{mode} did not answer:\n{tail}") from None
                time.sleep(0.3)
        yield Server(url=url, port=port, data_dir=data_dir, log=log)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
