"""Two app processes on one shared backend, as two Lambda containers are: the login limit holds
whichever process answers, and operators signing in at the same moment on both succeed.

Production mode runs against a moto server (DynamoDB for the security state, S3 for the
operator database); the embedded default shares one SQLite file.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from deploy.local.processes import free_port, stop
from tests.conftest import AWS_TEST_ENV
from tests.helpers import manage

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = secrets.token_urlsafe(12)
# The production pair keeps the default limit (10); the local pair, lower, spends fewer
# full-strength password hashes (the in-process tests check the defaults there).
DEFAULT_LIMIT = 10
LOCAL_LIMIT = 4


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait(self) -> None:
        for _ in range(300):
            try:
                urllib.request.urlopen(self.url + "/api/v1/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.url} did not start")

    def stop(self) -> None:
        stop(self.process)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def api_login(self, username: str, password: str) -> tuple[int, dict, bytes]:
        body = json.dumps({"username": username, "password": password}).encode()
        return self.post("/api/v1/auth/login", body, {"Content-Type": "application/json"})

    def admin_login(self, username: str, password: str) -> tuple[int, dict, bytes]:
        # An unmasked 32-character CSRF secret in both cookie and field is a valid pair.
        token = secrets.token_hex(16)
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        return self.post(
            "/admin/login/?next=/admin/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={token}"},
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 302 is the answer, not a hop
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class Pair(list):
    bucket = ""
    limit = DEFAULT_LIMIT


def _servers(envs: list[dict[str, str]]):
    servers = Pair(Server(env) for env in envs)
    try:
        for server in servers:
            server.wait()
        yield servers
    finally:
        for server in servers:
            server.stop()


def _aws(moto_server: str, service: str):
    import boto3

    return boto3.client(
        service,
        endpoint_url=moto_server,
        region_name=AWS_TEST_ENV["AWS_DEFAULT_REGION"],
        aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="module")
def production_pair(moto_server, tmp_path_factory):
    """Two production-mode processes, each with its own copy of the operator database, sharing
    the bucket and the tables as two Lambda containers do."""
    from books.repository.tables import create_tables
    from listening.repository.tables import create_listening_table
    from voj.security.dynamodb import create_security_table

    run = secrets.token_hex(4)
    bucket, secrets_path = f"voj-pair-{run}", f"/voj/pair-{run}/"
    books, chapters, security, listening = (
        f"voj-{name}-{run}" for name in ("books", "chapters", "security", "listening")
    )
    _aws(moto_server, "s3").create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": AWS_TEST_ENV["AWS_DEFAULT_REGION"]},
    )
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"):
        _aws(moto_server, "ssm").put_parameter(
            Name=secrets_path + name, Value=secrets.token_urlsafe(50), Type="SecureString"
        )
    dynamodb = _aws(moto_server, "dynamodb")
    create_tables(dynamodb, books=books, chapters=chapters)
    create_security_table(dynamodb, security)
    create_listening_table(dynamodb, listening)
    base = tmp_path_factory.mktemp("containers")

    def env(name: str) -> dict[str, str]:
        (base / name).mkdir()
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("VOJ_", "PYTEST"))},
            **AWS_TEST_ENV,
            "VOJ_ENV": "production",
            "VOJ_STORAGE": "s3",
            "VOJ_DATA_BACKEND": "dynamodb",
            "VOJ_AWS_ENDPOINT_URL": moto_server,
            "VOJ_MEDIA_BUCKET": bucket,
            "VOJ_BOOKS_TABLE": books,
            "VOJ_CHAPTERS_TABLE": chapters,
            "VOJ_SECURITY_TABLE": security,
            "VOJ_LISTENING_TABLE": listening,
            "VOJ_SECRETS": secrets_path,
            "VOJ_ALLOWED_HOSTS": "127.0.0.1",
            "VOJ_SSL_REDIRECT": "false",  # plain HTTP on the loopback
            "VOJ_DATA_DIR": str(base / name),
            "VOJ_OPSDB_PATH": str(base / name / "operator.sqlite3"),
            "VOJ_OPSDB_REFRESH_SECONDS": "0",
            "VOJ_STATIC_ROOT": str(base / "static"),
            "VOJ_DEMO_PASSWORD": PASSWORD,
        }

    envs = [env("a"), env("b")]
    manage(envs[0], "migrate", "--noinput", "-v", "0")
    manage(envs[0], "ensure_demo_accounts")
    # The console's pages need the collected files' manifest, as in the package.
    manage(envs[0], "collectstatic", "--noinput", "-v", "0", "--ignore", "rest_framework")
    servers = _servers(envs)
    pair = next(servers)
    pair.bucket = bucket
    pair.limit = DEFAULT_LIMIT
    yield pair
    next(servers, None)


@pytest.fixture(scope="module")
def local_pair(tmp_path_factory):
    """Two processes of the embedded default on one SQLite file."""
    data = tmp_path_factory.mktemp("local")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VOJ_", "PYTEST"))},
        "VOJ_ENV": "local",
        "VOJ_DATA_DIR": str(data),
        "VOJ_DEMO_PASSWORD": PASSWORD,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "VOJ_LOGIN_FAILURES_PER_USERNAME": str(LOCAL_LIMIT),
    }
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "ensure_demo_accounts")
    for pair in _servers([env, env]):
        pair.limit = LOCAL_LIMIT
        yield pair


def _alternating_failures(pair, username: str) -> None:
    for i in range(pair.limit):
        status, _, body = pair[i % 2].api_login(username, "wrong")
        assert status == 401, body
    for server in pair:
        for password in ("wrong", PASSWORD):
            status, headers, body = server.api_login(username, password)
            assert status == 429, body
            assert json.loads(body)["code"] == "throttled"
            assert 0 < int(headers["Retry-After"]) <= 900


@pytest.mark.parametrize("pair", ["production_pair", "local_pair"])
def test_the_login_limit_holds_whichever_process_answers(pair, request):
    servers = request.getfixturevalue(pair)
    _alternating_failures(servers, "editor")
    # The operator console is refused on both as well.
    for server in servers:
        status, headers, _ = server.admin_login("editor", PASSWORD)
        assert status == 429 and int(headers["Retry-After"]) > 0


def test_simultaneous_operator_sign_ins_on_two_containers_both_succeed(
    production_pair, moto_server
):
    s3 = _aws(moto_server, "s3")
    before = {
        obj["Key"]: obj["ETag"]
        for obj in s3.list_objects_v2(Bucket=production_pair.bucket, Prefix="system/")["Contents"]
    }
    for _ in range(3):
        barrier = threading.Barrier(2)
        outcomes: list[tuple[int, str]] = []

        def sign_in(server):
            barrier.wait()
            status, headers, _ = server.admin_login("operator", PASSWORD)
            outcomes.append((status, headers.get("Location", "")))

        threads = [threading.Thread(target=sign_in, args=(s,)) for s in production_pair]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == [(302, "/admin/")] * 2
    after = {
        obj["Key"]: obj["ETag"]
        for obj in s3.list_objects_v2(Bucket=production_pair.bucket, Prefix="system/")["Contents"]
    }
    assert after == before  # nothing was published: the sign-ins wrote nothing
