"""The operator database on SQLite and on a real PostgreSQL (tests/postgres.py): migrations, the
demo accounts, the console's account pages, a dropped connection, and DATABASE_URL's parsing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from tests.conftest import Api
from tests.helpers import manage as run_manage
from voj.settings.database import database_from_url, is_local_host

ROOT = Path(__file__).resolve().parents[2]


# --- on SQLite and PostgreSQL alike ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("operator_database")
class TestOnEachDatabase:
    def test_each_case_runs_on_its_database(self, operator_database):
        assert (
            connection.vendor == {"sqlite": "sqlite", "postgres": "postgresql"}[operator_database]
        )
        if operator_database == "postgres":
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_database()")
                assert cursor.fetchone() == ("test_voj",)

    def test_migrations_are_complete_and_applied(self):
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
        executor = MigrationExecutor(connection)
        assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []

    def test_demo_accounts(self, monkeypatch, capsys):
        monkeypatch.setenv("VOJ_DEMO_PASSWORD", "demo-pass-ÄÖ-1")
        call_command("ensure_demo_accounts")
        hashes = dict(User.objects.values_list("username", "password"))
        call_command("ensure_demo_accounts")  # idempotent: nothing doubled
        # nor re-hashed: the same password keeps the accounts' tokens good
        assert dict(User.objects.values_list("username", "password")) == hashes
        monkeypatch.setenv("VOJ_DEMO_PASSWORD", "demo-pass-ÄÖ-2")
        call_command("ensure_demo_accounts")  # a new one is applied
        assert User.objects.get(username="editor").check_password("demo-pass-ÄÖ-2")
        monkeypatch.setenv("VOJ_DEMO_PASSWORD", "demo-pass-ÄÖ-1")
        call_command("ensure_demo_accounts")
        assert sorted(User.objects.values_list("username", flat=True)) == [
            "editor",
            "listener",
            "operator",
        ]
        assert list(Group.objects.get(name="editors").user_set.values_list("username", flat=True))
        operator = User.objects.get(username="operator")
        assert operator.is_superuser and operator.is_staff
        assert "demo-pass" not in operator.password  # a hash, never the password
        api = Api(None)
        for username in ("operator", "editor", "listener"):
            response = api.post(
                "/api/v1/auth/login", {"username": username, "password": "demo-pass-ÄÖ-1"}
            )
            assert response.status_code == 200, (username, response.content)
        assert "Password: demo-pass-ÄÖ-1" in capsys.readouterr().out

    def test_console_account_pages(self, operator):
        client = Client()
        signed_in = client.post(
            "/admin/login/?next=/admin/",
            {"username": "operator", "password": "pw-operator-1", "next": "/admin/"},
        )
        assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
        for url in (
            "/admin/",
            "/admin/auth/user/",
            f"/admin/auth/user/{operator.pk}/change/",
            "/admin/auth/group/",
            "/admin/auth/user/add/",
            "/admin/catalogue/books/",
        ):
            assert client.get(url).status_code == 200, url
        editors = Group.objects.create(name="editors")
        added = client.post(
            "/admin/auth/user/add/",
            {
                "username": "new-editor",
                "password1": "a-long-pass-phrase-9",
                "password2": "a-long-pass-phrase-9",
                "usable_password": "true",
            },
        )
        assert added.status_code == 302, added.content.decode()[:2000]
        user = User.objects.get(username="new-editor")
        user.groups.add(editors)
        assert LogEntry.objects.filter(object_repr="new-editor").exists()
        found = client.get("/admin/auth/user/?q=new-editor").content.decode()
        assert "new-editor" in found
        login = Api(None).post(
            "/api/v1/auth/login", {"username": "new-editor", "password": "a-long-pass-phrase-9"}
        )
        assert login.status_code == 200
        assert login.json()["user"]["groups"] == ["editors"]


# --- through the management commands, as a deploy runs them ---------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/operator.sqlite3"
    return request.getfixturevalue("postgres_url")


def manage(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VOJ_", "DJANGO_"))},
        "VOJ_ENV": "local",
        "VOJ_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "VOJ_DEMO_PASSWORD": "from-scratch-pass-1",
    }
    return run_manage(env, *args)


def test_migrate_and_demo_accounts_from_scratch(database_url, tmp_path):
    """An empty database, migrated and given its accounts by the commands a deploy runs."""
    manage(database_url, tmp_path, "migrate", "--noinput", "-v", "0")
    manage(database_url, tmp_path, "ensure_demo_accounts")
    script = (
        "from django.contrib.auth import authenticate; from django.db import connection; "
        "from django.db.migrations.executor import MigrationExecutor as E; e = E(connection); "
        "print(connection.vendor, len(e.migration_plan(e.loader.graph.leaf_nodes())), "
        "authenticate(username='editor', password='from-scratch-pass-1'))"
    )
    out = manage(database_url, tmp_path, "shell", "-c", script).stdout.splitlines()[-1].split()
    assert out == ["postgresql" if database_url.startswith("postgres") else "sqlite", "0", "editor"]
    if database_url.startswith("postgres"):
        with psycopg.connect(database_url) as db:
            hashes = [h for (h,) in db.execute("SELECT password FROM auth_user")]
        assert len(hashes) == 3 and all(h.startswith("pbkdf2_sha256$") for h in hashes)


# --- PostgreSQL only --------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_dropped_connection_is_replaced(
    postgres_server, postgres_test_database, django_db_blocker
):
    """A Lambda container is frozen between requests and the server may close its connection
    meanwhile: with CONN_HEALTH_CHECKS the next request reconnects instead of failing."""
    from tests.postgres import default_database

    kept = {**postgres_test_database, "CONN_MAX_AGE": 600}
    with django_db_blocker.unblock(), default_database(kept):
        User.objects.count()
        first = connection.connection.info.backend_pid
        with psycopg.connect(postgres_server.url("postgres"), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        close_old_connections()  # what Django does when the next request starts
        assert User.objects.count() >= 0
        assert connection.connection.info.backend_pid != first

        without_checks = {**kept, "CONN_HEALTH_CHECKS": False}
    with django_db_blocker.unblock(), default_database(without_checks):
        User.objects.count()
        pid = connection.connection.info.backend_pid
        with psycopg.connect(postgres_server.url("postgres"), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        close_old_connections()
        from django.db import OperationalError

        with pytest.raises(OperationalError):
            User.objects.count()


# --- DATABASE_URL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("", True),
        ("/var/run/postgresql", True),
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("db.cluster-abc.ap-northeast-2.rds.amazonaws.com", False),
        ("10.0.3.7", False),
        ("localhost.example.com", False),
    ],
)
def test_local_hosts(host, local):
    assert is_local_host(host) is local


def test_remote_postgresql_requires_tls():
    config = database_from_url(
        "postgres://voj:pw@db.cluster-abc.ap-northeast-2.rds.amazonaws.com:5432/voj",
        conn_max_age=600,
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["OPTIONS"]["sslmode"] == "require"
    assert config["CONN_MAX_AGE"] == 600 and config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"]["connect_timeout"] == 5


def test_a_stricter_tls_mode_is_kept():
    config = database_from_url(
        "postgres://voj:pw@db.example.com/voj?sslmode=verify-full&sslrootcert=/var/task/rds.pem",
        conn_max_age=0,
    )
    assert config["OPTIONS"]["sslmode"] == "verify-full"
    assert config["OPTIONS"]["sslrootcert"] == "/var/task/rds.pem"


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer"])
def test_plain_text_to_a_remote_host_is_refused(mode):
    with pytest.raises(ImproperlyConfigured, match=f"sslmode={mode}"):
        database_from_url(
            f"postgres://voj:secret-pw@db.example.com/voj?sslmode={mode}", conn_max_age=0
        )


def test_loopback_needs_no_tls():
    config = database_from_url("postgres://voj:pw@127.0.0.1:5432/voj", conn_max_age=0)
    assert "sslmode" not in config["OPTIONS"]
    socket = database_from_url("postgres://voj@%2Fvar%2Frun%2Fpostgresql/voj", conn_max_age=0)
    assert socket["HOST"] == "/var/run/postgresql" and "sslmode" not in socket["OPTIONS"]


@pytest.mark.parametrize("url", ["nosuch://voj:secret-pw@h/db", "postgres://voj:secret-pw@h:x/db"])
def test_a_bad_url_is_named_but_not_echoed(url):
    with pytest.raises(ImproperlyConfigured) as raised:
        database_from_url(url, conn_max_age=0)
    assert "DATABASE_URL" in str(raised.value) and "secret-pw" not in str(raised.value)


def test_sqlite_url_passes_through(tmp_path):
    config = database_from_url(f"sqlite:///{tmp_path}/x.sqlite3", conn_max_age=0)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == f"{tmp_path}/x.sqlite3"


def test_run_aws_names_its_operator_database():
    from deploy.local.aws import app_environment, operator_database

    env = app_environment(
        endpoint="http://127.0.0.1:1", dynamodb_endpoint="x", port=1, password="p", work=Path("/w")
    )
    env.pop("DATABASE_URL", None)
    assert operator_database(env).startswith("operator database SQLite in s3://")
    env["DATABASE_URL"] = "postgres://voj:secret-pw@127.0.0.1:5433/voj"
    named = operator_database(env)
    assert named == "operator database postgres at 127.0.0.1:5433/voj (DATABASE_URL)"
    assert "secret-pw" not in named
    env["DATABASE_URL"] = "sqlite:////tmp/ops.sqlite3"
    assert operator_database(env) == "operator database SQLite file /tmp/ops.sqlite3 (DATABASE_URL)"
