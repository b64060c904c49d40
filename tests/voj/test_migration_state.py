"""A server whose operator database was never migrated says so: 503 with a code, one log line
naming the fix, a failed check on /health/detailed; and it recovers once migrated, unrestarted."""

from __future__ import annotations

import http.cookiejar
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import signing
from django.core.signing import JSONSerializer

from deploy.local.processes import free_port, stop, wait_for
from tests.helpers import manage
from tests.servers import ROOT, _clean_environment


def _call(url: str, *, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def unmigrated(tmp_path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """`manage.py runserver` on an empty data directory: no `migrate` ran."""
    env = _clean_environment(VOJ_ENV="local", VOJ_DATA_DIR=str(tmp_path / "data"))
    port = free_port()
    log = tmp_path / "server.log"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/api/v1/health", 60, server=server)
        yield url, log, env
    finally:
        stop(server, 20)


def test_unmigrated_operator_database_is_a_503_that_names_the_fix(unmigrated):
    url, log, env = unmigrated
    status, body = _call(url + "/api/v1/auth/login", body={"username": "a", "password": "b"})
    assert status == 503, body
    assert body["code"] == "operator_db_not_migrated"
    assert "migrat" in body["detail"]

    lines = [line for line in log.read_text().splitlines() if "not migrated" in line]
    assert len(lines) == 1, lines  # one line for the one refused request, no traceback
    assert "python -m deploy migrate" in lines[0] and "not applied" in lines[0]
    assert "Traceback" not in log.read_text()  # an operator's mistake, not a bug

    status, health = _call(url + "/api/v1/health/detailed")
    assert status == 503
    check = health["checks"]["migrations"]
    assert check["status"] == "error" and check["error"] == "OperatorDatabaseNotMigrated"
    assert "python -m deploy migrate" in check["cause"]
    assert health["checks"]["database"] == {"status": "ok"}  # reachable, only not migrated

    # The migrate step is the whole fix: no restart.
    manage(env, "migrate", "--noinput", "-v", "0")
    status, body = _call(url + "/api/v1/auth/login", body={"username": "a", "password": "b"})
    assert status == 401, body
    # health/detailed answers from its last round of checks for VOJ_HEALTH_CHECK_SECONDS (5).
    deadline = time.monotonic() + 10
    status, health = _call(url + "/api/v1/health/detailed")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        status, health = _call(url + "/api/v1/health/detailed")
    assert status == 200 and health["checks"]["migrations"] == {"status": "ok"}, health


def test_console_sign_in_on_an_unmigrated_database_is_a_503(unmigrated):
    url, _, _ = unmigrated
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    browser.open(url + "/admin/login/", timeout=30)
    token = next(cookie.value for cookie in cookies if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": "ops", "password": "pass", "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(url + "/admin/login/", data=form, headers={"Referer": url})
    with pytest.raises(urllib.error.HTTPError) as refused:
        browser.open(request, timeout=30)
    assert refused.value.code == 503
    assert json.loads(refused.value.read())["code"] == "operator_db_not_migrated"


def test_a_signed_in_operator_on_an_unmigrated_database_gets_the_503_too(unmigrated, tmp_path):
    """A console session from before the database lost its tables (a restore, a switch by
    hand): the request log must not load the user again after the view failed on it."""
    url, log, _ = unmigrated
    secret = (tmp_path / "data" / "secret-key").read_text().strip()
    session = signing.dumps(
        {
            "_auth_user_id": "1",
            "_auth_user_backend": "voj.security.backends.ThrottledModelBackend",
            "_auth_user_hash": "0" * 64,
        },
        key=secret,
        salt="django.contrib.sessions.backends.signed_cookies",
        serializer=JSONSerializer,
        compress=True,
    )
    request = urllib.request.Request(url + "/admin/", headers={"Cookie": f"sessionid={session}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 503
    assert json.loads(refused.value.read())["code"] == "operator_db_not_migrated"
    assert "Traceback" not in log.read_text()
