"""The README's curl walk-through, pasted as a newcomer would: against a fresh `make run`, with
no variables set but the port."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.servers import ROOT, serving


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### With curl", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README.md has no ```sh block under 'With curl'"
    return match.group(1)


def paste(script: str, cwd, port: int) -> subprocess.CompletedProcess:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("VOJ_", "DJANGO_", "AWS_"))
    }
    return subprocess.run(
        ["bash"],
        input=script,
        cwd=cwd,
        env={**env, "PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory):
    """`make run` with its data (database, objects, demo password) in a new directory, and a
    working directory holding it as var/ beside the repository's tests/."""
    workdir = tmp_path_factory.mktemp("newcomer")
    (workdir / "tests").symlink_to(ROOT / "tests")
    with serving("run", workdir / "var") as server:
        yield server, workdir


def test_walkthrough_runs_verbatim(fresh_run):
    server, workdir = fresh_run
    assert (workdir / "var" / "demo-password").exists()
    result = paste(walkthrough(), workdir, server.port)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "ready" in lines
    assert lines[-1].startswith("HTTP/1.1 206"), result.stdout
    assert "Traceback" not in result.stderr


def test_walkthrough_stops_clearly_when_login_fails(fresh_run):
    server, workdir = fresh_run
    script = walkthrough().replace("$(cat var/demo-password)", "not-the-password", 1)
    result = paste(script, workdir, server.port)
    assert result.returncode != 0
    assert "auth/login answered 401" in result.stderr
    assert "the password is VOJ_DEMO_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert "HTTP/1.1" not in result.stdout  # nothing after the login ran


def test_walkthrough_says_when_nothing_answers(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "demo-password").write_text("whatever")
    from deploy.local.processes import free_port

    result = paste(walkthrough(), tmp_path, free_port())
    assert result.returncode != 0
    assert "is voj running" in result.stderr
    assert "export PORT=" in result.stderr
    # One cause, named once: not a second error that blames the password.
    assert "password" not in result.stderr
    assert "Traceback" not in result.stderr
