"""The OpenAPI schema tells the truth: schemathesis against a live server, as every kind of caller.

A server in local mode (its own fresh data directory, SQLite and local files, the demo accounts
and the demo catalogue) runs on a random port of 127.0.0.1; schemathesis reads its schema and runs
every phase (coverage, fuzzing and stateful sequences over the schema's links and those it infers)
with every check, as an editor, as a listener and without a token. Any server error, undocumented
status, response that breaks its schema, valid request refused or invalid request accepted fails
the test. Each run has a time budget, so the whole contract costs about two minutes.

A listener's way through the API (a published book, its chapters, then progress and bookmarks kept
in one) needs a ready chapter, which no generated request can make: it takes a real upload. The
demo catalogue (manage.py ensure_demo_catalogue) has them, and is put back before each caller.
The broad run wanders over every operation and rarely keeps to that way (an editor deletes its
books; its list, newest first, fills with the books it makes), so each caller with a token first
has a short stateful run over that way's operations alone, following the schema's own links
(voj/schema.py); the server's log must show it kept progress (200) and made a bookmark (201). A
broken link or a chapter no longer reachable fails the test. tests/voj/test_api_links.py follows
the same links step by step, publish included.
"""

from __future__ import annotations

import json
import os
import re
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
BUDGETS = {"editor": 50, "listener": 20, "anonymous": 15}
# The listener's way, for the short stateful run of each caller with a token, over the schema's
# own links only: nothing that deletes, unpublishes or makes books or chapters, so the demo books
# stay reachable throughout, and few enough branches that the way is walked in seconds.
LISTENING_WAY = (
    "books_list",
    "chapters_list",
    "progress_update",
    "progress_get",
    "progress_delete",
    "bookmarks_create",
    "bookmarks_update",
    "bookmarks_delete",
)
LISTENING_BUDGET = 40  # within 10 s alone; two full-suite runs at load 4-7 ran out at 15 s
# What that run must reach, as runserver logs it.
KEPT_PLACES = (
    re.compile(r'"PUT /api/v1/me/progress/[0-9a-f-]{36} HTTP/1\.1" 200 '),
    re.compile(r'"POST /api/v1/me/bookmarks HTTP/1\.1" 201 '),
)


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

    def demo_catalogue() -> None:
        subprocess.run(
            [*manage, "ensure_demo_catalogue"], env=env, check=True, capture_output=True, cwd=ROOT
        )

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
        yield {
            "url": url,
            "password": password,
            "log": data / "server.log",
            "demo_catalogue": demo_catalogue,
        }
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


def _schemathesis(
    url: str, headers: list[str], cwd: Path, max_time: int, *options: str, config: Path = CONFIG
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BIN / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            f"{url}/api/v1/schema",
            *headers,
            "--checks",
            "all",
            "--max-time",
            str(max_time),
            "--workers",
            "2",
            "--request-timeout",
            "30",
            *options,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,  # its crash cache stays out of the checkout
        timeout=max_time + 300,
        check=False,
    )


def _log_since(server: dict, start: int) -> str:
    with server["log"].open("rb") as log:
        log.seek(start)
        return log.read().decode(errors="replace")


def _the_listening_way_holds(server: dict, headers: list[str], cwd: Path) -> None:
    # The same expectations, without the links schemathesis infers: they lead everywhere.
    config = cwd / "listening-way.toml"
    config.write_text(CONFIG.read_text() + "\n[phases.stateful.inference]\nalgorithms = []\n")
    start = server["log"].stat().st_size
    only = [option for name in LISTENING_WAY for option in ("--include-operation-id", name)]
    result = _schemathesis(
        server["url"], headers, cwd, LISTENING_BUDGET, "--phases", "stateful", *only, config=config
    )
    output = result.stdout + result.stderr
    reached = _log_since(server, start)
    assert result.returncode == 0, output[-20000:] + "\n--- server ---\n" + reached[-4000:]
    for step in KEPT_PLACES:
        assert step.search(reached), f"never reached: {step.pattern}\n" + output[-6000:]


@pytest.mark.contract
@pytest.mark.parametrize("caller", list(BUDGETS))
def test_the_schema_holds_against_the_live_server(local_server, caller, tmp_path):
    url = local_server["url"]
    local_server["demo_catalogue"]()
    headers = []
    if caller != "anonymous":
        token = _access_token(url, caller, local_server["password"])
        headers = ["-H", f"Authorization: Bearer {token}"]
        _the_listening_way_holds(local_server, headers, tmp_path)
    result = _schemathesis(
        url, headers, tmp_path, BUDGETS[caller], "--phases", "examples,coverage,fuzzing,stateful"
    )
    output = result.stdout + result.stderr
    server_log = local_server["log"].read_text(errors="replace")
    assert result.returncode == 0, output[-20000:] + "\n--- server ---\n" + server_log[-4000:]
    assert "Traceback" not in server_log, server_log[-8000:]
