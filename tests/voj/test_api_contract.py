"""The OpenAPI schema tells the truth: schemathesis against a live server, as every kind of caller.

A server in local mode (its own fresh data directory, SQLite and local files) runs on a random
port of 127.0.0.1; schemathesis reads its schema and runs every phase (coverage, fuzzing and
stateful sequences over the links it infers) with every check, as an editor, as a listener and
without a token. Any server error, undocumented status, response that breaks its schema, valid
request refused or invalid request accepted fails the test. Each run has a time budget, so the
whole contract costs about two minutes.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
BIN = Path(sys.executable).parent
# Seconds of generation per caller: the editor reaches every operation, the others mostly 401/403.
BUDGETS = {"editor": 60, "listener": 30, "anonymous": 20}


@pytest.fixture(scope="module")
def local_server(tmp_path_factory) -> Iterator[dict]:
    data = tmp_path_factory.mktemp("contract")
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "VOJ_ENV": "local",
        "VOJ_DATA_DIR": str(data),
        "VOJ_DEMO_PASSWORD": password,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v", "0"], ["ensure_demo_accounts"]):
        subprocess.run(manage + command, env=env, check=True, capture_output=True, cwd=ROOT)
    port = free_port()
    log = (data / "server.log").open("wb")
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/api/v1/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError((data / "server.log").read_text()) from None
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield {"url": url, "password": password, "log": data / "server.log"}
    finally:
        stop(server)
        log.close()


def _access_token(url: str, username: str, password: str) -> str:
    request = urllib.request.Request(
        url + "/api/v1/auth/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access"]


@pytest.mark.contract
@pytest.mark.parametrize("caller", list(BUDGETS))
def test_the_schema_holds_against_the_live_server(local_server, caller, tmp_path):
    url = local_server["url"]
    headers = []
    if caller != "anonymous":
        token = _access_token(url, caller, local_server["password"])
        headers = ["-H", f"Authorization: Bearer {token}"]
    result = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "run",
            f"{url}/api/v1/schema",
            *headers,
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-time",
            str(BUDGETS[caller]),
            "--workers",
            "2",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # its crash cache stays out of the checkout
        timeout=BUDGETS[caller] + 300,
        check=False,
    )
    output = result.stdout + result.stderr
    server_log = local_server["log"].read_text(errors="replace")
    assert result.returncode == 0, output[-20000:] + "\n--- server ---\n" + server_log[-4000:]
    assert "Traceback" not in server_log, server_log[-8000:]
