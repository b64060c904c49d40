"""A throwaway PostgreSQL cluster from Debian's `postgresql` package, on this machine only.

It lives in a temporary directory: `initdb` makes the cluster, `postgres` serves it on a
random port of 127.0.0.1 and on a Unix socket in that directory, and stopping it deletes
everything. PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
user (or `nobody`) through setpriv. TCP logins need the generated password (SCRAM); durability
is off (fsync, synchronous commit), since the data is thrown away.

    python -m deploy.local.postgres     # serve one until interrupted; prints its DATABASE_URL
    python -m deploy.local.postgres COMMAND...   # run COMMAND with DATABASE_URL set, then stop

The tests (tests/postgres.py) use one per test process. `DATABASE_URL=... make run-aws` and
`python -m deploy opsdb export|import --database-url ...` take this one's URL as well as any
other PostgreSQL's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from deploy.local.processes import die_with_parent, free_port

START_TIMEOUT = 60.0
SUPERUSER = "voj"
DEBIAN_BINARIES = Path("/usr/lib/postgresql")


def bindir() -> Path | None:
    """The directory holding initdb and postgres: VOJ_POSTGRES_BIN, Debian's newest version
    (its server binaries are not on PATH), or PATH."""
    if configured := os.environ.get("VOJ_POSTGRES_BIN"):
        return Path(configured)
    versions = sorted(
        (path for path in DEBIAN_BINARIES.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _run_as() -> pwd.struct_passwd | None:
    """The account the server runs as when this process is root (None when it is not)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody account exists")


def unavailable() -> str | None:
    """Why a throwaway PostgreSQL cannot run here, or None when it can."""
    binaries = bindir()
    if binaries is None or not (binaries / "postgres").exists():
        return "PostgreSQL's server is not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            return "running as root and setpriv (util-linux) is missing to drop privileges"
        try:
            _run_as()
        except RuntimeError as error:
            return str(error)
    try:
        import psycopg  # noqa: F401, PLC0415 (whether psycopg imports is the check)
    except ImportError:
        return "psycopg is not installed (make install)"
    return None


class PostgresLocal:
    """One cluster: start() (or `with`), url(name), create_database(name), stop()."""

    def __init__(self) -> None:
        self.directory: Path | None = None
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.password = secrets.token_urlsafe(18)
        self.log: Path | None = None

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> PostgresLocal:
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        try:
            return self._start()
        except BaseException:
            self.stop()  # __exit__ does not run when __enter__ raises: leave no directory
            raise

    def _start(self) -> PostgresLocal:
        binaries = bindir()
        assert binaries is not None
        account = _run_as()
        self.directory = Path(tempfile.mkdtemp(prefix="voj-postgres-"))
        (self.directory / "socket").mkdir()
        password_file = self.directory / "password"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        if account is not None:
            for path in (self.directory, self.directory / "socket", password_file):
                os.chown(path, account.pw_uid, account.pw_gid)
        self.log = self.directory / "postgres.log"
        self._as_owner(
            [
                str(binaries / "initdb"),
                "--pgdata",
                str(self.directory / "data"),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(password_file),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ],
            account,
            check=True,
        )
        password_file.unlink()
        for _ in range(3):  # another process may take the free port first
            self.port = free_port()
            if self._launch(binaries, account):
                return self
        raise RuntimeError(f"PostgreSQL did not start:\n{self._log_tail()}")

    def _as_owner(
        self, command: list[str], account: pwd.struct_passwd | None, **kwargs: Any
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._command(command, account),
            env=self._environment(),
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=120,
            **kwargs,
        )

    @staticmethod
    def _command(command: list[str], account: pwd.struct_passwd | None) -> list[str]:
        if account is None:
            return command
        return [
            "setpriv",
            # After the change of user, which clears the parent-death signal set before it.
            "--pdeathsig=SIGQUIT",
            f"--reuid={account.pw_uid}",
            f"--regid={account.pw_gid}",
            "--init-groups",
            "--",
            *command,
        ]

    @staticmethod
    def _environment() -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}

    def _launch(self, binaries: Path, account: pwd.struct_passwd | None) -> bool:
        assert self.directory is not None and self.log is not None
        command = [
            str(binaries / "postgres"),
            "-D",
            str(self.directory / "data"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(self.directory / "socket"),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "shared_buffers=32MB",
            "-c",
            "max_connections=60",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self._command(command, account),
                env=self._environment(),
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # A killed test run leaves no server behind: SIGQUIT is an immediate shutdown.
                preexec_fn=die_with_parent(signal.SIGQUIT),
            )
        return self._wait_ready()

    def _wait_ready(self) -> bool:
        import psycopg  # noqa: PLC0415 (every test process imports this module: psycopg imported with it would defeat voj.settings.database.drivers_absent)

        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"PostgreSQL did not answer within {START_TIMEOUT}s")

    def _log_tail(self) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGQUIT: immediate shutdown; nothing here needs to survive.
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> PostgresLocal:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- databases ----------------------------------------------------------------------------

    def url(self, database: str) -> str:
        """A DATABASE_URL for database, over TCP on the loopback."""
        return f"postgres://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def socket_url(self, database: str) -> str:
        """The same database over the Unix socket (no password: local connections are trusted)."""
        assert self.directory is not None
        socket = quote(str(self.directory / "socket"), safe="")
        return f"postgres://{SUPERUSER}@{socket}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        import psycopg  # noqa: PLC0415 (every test process imports this module: psycopg imported with it would defeat voj.settings.database.drivers_absent)

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(statement.encode())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.postgres")
    parser.add_argument("--database", default="voj", help="create this database (default voj)")
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="run this with DATABASE_URL set, then stop (default: serve until Ctrl-C)",
    )
    args = parser.parse_args()
    with PostgresLocal() as server:
        url = server.create_database(args.database)
        if args.command:
            env = {**os.environ, "DATABASE_URL": url}
            raise SystemExit(subprocess.run(args.command, env=env, check=False).returncode)
        print(f"DATABASE_URL={url}", flush=True)
        print("PostgreSQL is running; Ctrl-C stops it and deletes its data.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
