"""Local servers for the tests, the benchmarks and the prod-like local mode: free loopback
ports, waiting for a server to answer, moto_server, and servers that end with their starter."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn``: in the child before exec, have the kernel send ``sig`` when the process
    that started it dies (Linux's PR_SET_PDEATHSIG), so a killed test worker or `make run-aws`
    leaves no server behind. A change of user clears the setting: a child that drops root sets
    it again after the change (``setpriv --pdeathsig``, deploy/local/postgres.py)."""
    # Looked up here, in the parent: between fork and exec the child may only make plain calls
    # (another thread of the parent may have held a lock, such as the loader's, at the fork).
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return lambda: None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before the signal was set
            os.kill(os.getpid(), sig)

    return preexec


LOOPBACK = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (held open together so none is handed out twice)."""
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind((LOOPBACK, 0))
            probes.append(probe)
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def free_port() -> int:
    return free_ports(1)[0]


def wait_for(url: str, seconds: float = 30, *, server: subprocess.Popen | None = None) -> None:
    """Until ``url`` answers (any HTTP status); RuntimeError if it does not within ``seconds``
    or ``server`` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (loopback only)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if server is not None and server.poll() is not None:
                break
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def launch_moto(
    port: int | None = None, *, log: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """A moto server starting on 127.0.0.1 (its own process: for code that runs in others),
    and its URL; ``moto_ready`` waits for it. The caller stops it (terminate); it also ends if
    the caller dies."""
    port = port or free_port()
    output = log.open("w") if log is not None else subprocess.DEVNULL
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", LOOPBACK, "-p", str(port)],
        stdout=output,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent(signal.SIGTERM),
    )
    return server, f"http://{LOOPBACK}:{port}"


def moto_ready(server: subprocess.Popen, url: str) -> None:
    try:
        wait_for(url + "/moto-api/", server=server)
    except RuntimeError:
        server.kill()
        server.wait(timeout=10)
        raise


def stop(process: subprocess.Popen, seconds: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within ``seconds``: a server slowed
    by a loaded machine must not fail the test or command that is done with it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_moto(port: int | None = None, *, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """A moto server on 127.0.0.1, ready, and its URL (launch_moto, then moto_ready)."""
    server, url = launch_moto(port, log=log)
    moto_ready(server, url)
    return server, url
