"""The built Lambda package, called through Zappa's handler in a fresh process."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from deploy.lambda_harness import api_gateway_event, invoke, prod_on_moto, runtime_dir, unpack
from deploy.package import SDK_SERVICES
from voj.aws import RUNTIME_SERVICES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"


@pytest.fixture(scope="module")
def package() -> Path:
    if not PACKAGE.exists():
        if os.environ.get("CI"):
            pytest.fail("CI builds the package first (make package)")
        pytest.skip("run `make package` first")
    return PACKAGE


@pytest.fixture(scope="module")
def prod_env(moto_server) -> dict[str, str]:
    """The core stack and the secrets, in a moto server, as the handler's environment sees."""
    return prod_on_moto(moto_server, ROOT / "deploy" / "stack.yaml")


def test_package_is_small_and_carries_bytecode(package):
    assert package.stat().st_size < 45 * 1024 * 1024
    names = set(zipfile.ZipFile(package).namelist())
    assert "handler.py" in names and "zappa_settings.py" in names
    assert "voj/settings/__pycache__/production.cpython-312.pyc" in names
    assert "django/__pycache__/__init__.cpython-312.pyc" in names
    for absent in (
        "moto/",
        "_pytest/",
        "cfnlint/",
        "playwright/",
        "troposphere/",
        "tests/",
        "var/",
    ):
        assert not any(n.startswith(absent) for n in names), absent
    assert "boto3/session.py" in names and "botocore/client.py" in names
    models = {n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 3}
    assert models == {*RUNTIME_SERVICES, *SDK_SERVICES}
    assert "botocore/data/endpoints.json" in names
    settings_py = zipfile.ZipFile(package).read("zappa_settings.py").decode()
    assert "SECRET" not in settings_py.replace("VOJ_SECRETS", "")


def test_handler_answers_api_gateway(package, prod_env, tmp_path):
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    results = invoke(
        task,
        runtime,
        [
            api_gateway_event("/api/v1/health"),
            api_gateway_event("/api/v1/health/detailed"),
            api_gateway_event("/api/v1/books"),
        ],
        prod_env,
    )
    health, detailed, books, loaded = results
    assert health["status"] == 200, health
    assert json.loads(health["body"]) == {"status": "ok"}
    assert detailed["status"] == 200, detailed
    checks = json.loads(detailed["body"])["checks"]
    assert checks["repository"] == {"status": "ok"} and checks["storage"] == {"status": "ok"}
    assert books["status"] == 401  # the API itself, behind its authentication
    # Django and the AWS SDK came from the package, not from the runtime's site-packages.
    assert loaded["django"].startswith(str(task))
    assert loaded["botocore"].startswith(str(task))


def test_operator_console_is_styled_in_production(package, prod_env, tmp_path):
    """No web server in front of Lambda: WhiteNoise serves the admin's collected assets."""
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    env = {**prod_env, "VOJ_OPSDB_PATH": str(tmp_path / "ops.sqlite3")}
    login, *_ = invoke(task, runtime, [api_gateway_event("/admin/login/")], env)
    assert login["status"] == 200, login
    import re

    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login["body"])
    assert stylesheet, login["body"][:500]
    css, *_ = invoke(task, runtime, [api_gateway_event(stylesheet.group(1))], env)
    assert css["status"] == 200
    assert "body" in css["body"]
