"""The built Lambda package, called through Zappa's handler in a fresh process."""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from pathlib import Path

import boto3
import pytest

from deploy.lambda_harness import api_gateway_event, invoke, runtime_dir, unpack

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
def prod_on_moto(moto_server) -> dict[str, str]:
    """The core stack and the secrets, in a moto server, as the handler's environment sees."""
    kwargs = {
        "endpoint_url": moto_server,
        "region_name": "ap-northeast-2",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    cloudformation = boto3.client("cloudformation", **kwargs)
    names = [s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"]]
    if "voj-prod" not in names:
        cloudformation.create_stack(
            StackName="voj-prod",
            TemplateBody=(ROOT / "deploy" / "stack.yaml").read_text(),
            Parameters=[
                {"ParameterKey": "Stage", "ParameterValue": "prod"},
                {"ParameterKey": "ApiOrigin", "ParameterValue": "https://api.voj.test"},
                {"ParameterKey": "FrontendOrigin", "ParameterValue": "https://app.voj.test"},
                {"ParameterKey": "AlarmEmail", "ParameterValue": "ops@voj.test"},
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    ssm = boto3.client("ssm", **kwargs)
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"):
        ssm.put_parameter(
            Name=f"/voj/prod/{name}",
            Value=secrets.token_urlsafe(50),
            Type="SecureString",
            Overwrite=True,
        )
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "VOJ_AWS_ENDPOINT_URL": moto_server,
    }


def test_package_is_small_and_carries_bytecode(package):
    assert package.stat().st_size < 45 * 1024 * 1024
    names = set(zipfile.ZipFile(package).namelist())
    assert "handler.py" in names and "zappa_settings.py" in names
    assert "voj/settings/__pycache__/production.cpython-312.pyc" in names
    assert "django/__pycache__/__init__.cpython-312.pyc" in names
    for absent in (
        "boto3/",
        "botocore/",
        "moto/",
        "_pytest/",
        "cfnlint/",
        "playwright/",
        "troposphere/",
        "tests/",
        "var/",
    ):
        assert not any(n.startswith(absent) for n in names), absent
    settings_py = zipfile.ZipFile(package).read("zappa_settings.py").decode()
    assert "SECRET" not in settings_py.replace("VOJ_SECRETS", "")


def test_handler_answers_api_gateway(package, prod_on_moto, tmp_path):
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
        prod_on_moto,
    )
    health, detailed, books, loaded = results
    assert health["status"] == 200, health
    assert json.loads(health["body"]) == {"status": "ok"}
    assert detailed["status"] == 200, detailed
    checks = json.loads(detailed["body"])["checks"]
    assert checks["repository"] == {"status": "ok"} and checks["storage"] == {"status": "ok"}
    assert books["status"] == 401  # the API itself, behind its authentication
    assert loaded["django"].startswith(str(task))  # Django came from the package


def test_operator_console_is_styled_in_production(package, prod_on_moto, tmp_path):
    """No web server in front of Lambda: WhiteNoise serves the admin's collected assets."""
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    env = {**prod_on_moto, "VOJ_OPSDB_PATH": str(tmp_path / "ops.sqlite3")}
    login, *_ = invoke(task, runtime, [api_gateway_event("/admin/login/")], env)
    assert login["status"] == 200, login
    import re

    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login["body"])
    assert stylesheet, login["body"][:500]
    css, *_ = invoke(task, runtime, [api_gateway_event(stylesheet.group(1))], env)
    assert css["status"] == 200
    assert "body" in css["body"]
