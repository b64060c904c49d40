"""The operator database on a real PostgreSQL, for tests that run on SQLite and PostgreSQL alike.

Each test process starts one throwaway cluster (deploy/local/postgres.py) as soon as its
collection shows it will run a `postgres` case, in a thread, so initdb runs while other tests
do. A module that uses `operator_database` runs each of its tests twice: `[sqlite]` on the
suite's SQLite file and `[postgres]` with Django's default connection pointed at a migrated
PostgreSQL database (DATABASE_URL parsed as production parses it). pytest-django's own
transaction handling (rollback after each test, flush after transactional ones) then applies to
PostgreSQL. Without PostgreSQL the cases skip and say why; under CI=true they fail.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from deploy.local.postgres import PostgresLocal
from tests.substrates import substrate_header, substrate_missing

_SERVER = pytest.StashKey["Launch"]()


@cache
def postgres_unavailable() -> str | None:
    from deploy.local.postgres import unavailable

    return unavailable()


class Launch:
    """A cluster starting in a thread; ready() waits for it.

    The thread lives until stop(): the server's parent-death signal (deploy/local/processes.py)
    follows the thread that started it, not the process."""

    def __init__(self) -> None:
        self.server = PostgresLocal()
        self.error: BaseException | None = None
        self.started = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._start, name="postgres-launch", daemon=True)
        self.thread.start()

    def _start(self) -> None:
        try:
            self.server.start()
        except BaseException as error:  # reported by ready(), in the test that needs it
            self.error = error
        self.started.set()
        self.stopping.wait()

    def ready(self) -> PostgresLocal:
        self.started.wait()
        if self.error is not None:
            raise RuntimeError(f"PostgreSQL did not start: {self.error}") from self.error
        return self.server


def report_header() -> str:
    return substrate_header(
        "PostgreSQL", postgres_unavailable(), "a throwaway cluster per test process"
    )


def launch_if_wanted(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    wanted = any(item.get_closest_marker("postgres") for item in session.items)
    if wanted and postgres_unavailable() is None:
        session.config.stash[_SERVER] = Launch()


def stop(session: pytest.Session) -> None:
    launch = session.config.stash.get(_SERVER, None)
    if launch is not None:
        launch.started.wait()
        launch.server.stop()
        launch.stopping.set()
        launch.thread.join()


@pytest.fixture(scope="session")
def postgres_server(pytestconfig) -> PostgresLocal:
    """This process's PostgreSQL. Skips when it cannot run here, except under CI."""
    reason = postgres_unavailable()
    if reason is not None:
        substrate_missing("PostgreSQL", reason, without="for SQLite only: -m 'not postgres'")
    launch = pytestconfig.stash.get(_SERVER, None)
    if launch is None:  # requested without the marker
        launch = pytestconfig.stash[_SERVER] = Launch()
    return launch.ready()


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A fresh, empty database of this process's PostgreSQL, as a DATABASE_URL."""
    name = f"voj_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


def connection_settings(url: str) -> dict[str, Any]:
    """Django's full settings for one connection, from a DATABASE_URL as production reads it."""
    from django.db import connections

    from voj.settings.database import database_from_url

    return connections.configure_settings({"default": database_from_url(url, conn_max_age=0)})[
        "default"
    ]


@contextlib.contextmanager
def default_database(settings_dict: dict[str, Any]) -> Iterator[None]:
    """Point Django's default connection at settings_dict, in every thread that connects from
    now on (the live server opens a connection per request thread), then point it back."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    def forget_this_thread() -> None:
        with contextlib.suppress(AttributeError):
            connections["default"].close()
            del connections["default"]
        # Django caches content types by alias: the ids read from one database are not the
        # other's once either has been flushed (the admin log then names a missing type).
        ContentType.objects.clear_cache()

    saved = connections.settings["default"]
    forget_this_thread()
    connections.settings["default"] = settings_dict
    try:
        yield
    finally:
        forget_this_thread()
        connections.settings["default"] = saved


@pytest.fixture(scope="session")
def postgres_test_database(postgres_server, django_db_setup, django_db_blocker) -> dict[str, Any]:
    """A migrated database for the `[postgres]` cases, made once per test process the way
    Django's test runner makes one (test_voj)."""
    settings_dict = connection_settings(postgres_server.url("voj"))
    with django_db_blocker.unblock(), default_database(settings_dict):
        from django.db import connections

        connections["default"].creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
    return settings_dict


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def operator_database(request, django_db_setup) -> Iterator[str]:
    """Runs each test of a module on SQLite and on PostgreSQL (apply with
    `pytest.mark.usefixtures("operator_database")`)."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    settings_dict = request.getfixturevalue("postgres_test_database")
    with default_database(settings_dict):
        yield "postgres"
