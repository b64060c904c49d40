"""`zappa deploy prod` with the built package, against a moto server (Zappa's aws_endpoint_urls).

What moto cannot run: `zappa update` ends by listing the function's URL configurations, an
operation moto 5.2 does not implement, and `zappa rollback` needs Lambda to serve old versions'
code; docs/runbook.md covers both.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from deploy.lambda_harness import CORE_STACK, REGION, moto_client, prod_on_moto

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"
ZAPPA = ROOT / ".venv-lambda" / "bin" / "zappa"
# Every client Zappa builds (zappa/core.py), all sent to the moto server.
ZAPPA_SERVICES = [
    "acm",
    "apigateway",
    "cloudformation",
    "cloudwatch",
    "cognito-idp",
    "dynamodb",
    "efs",
    "elbv2",
    "events",
    "iam",
    "lambda",
    "logs",
    "route53",
    "s3",
    "sns",
    "sts",
]


@pytest.fixture(scope="module")
def built() -> None:
    if not (PACKAGE.exists() and ZAPPA.exists()):
        if os.environ.get("CI"):
            pytest.fail("CI builds the package first (make package)")
        pytest.skip("run `make package` first")


def test_zappa_deploy_prod(built, moto_server, tmp_path):
    prod_on_moto(moto_server, ROOT / "deploy" / "stack.yaml")
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    settings["prod"]["aws_endpoint_urls"] = dict.fromkeys(ZAPPA_SERVICES, moto_server)
    settings["prod"]["touch"] = False  # the API's URL is AWS's host name, not the moto server
    (tmp_path / "zappa_settings.json").write_text(json.dumps(settings))

    result = subprocess.run(
        [str(ZAPPA), "deploy", "prod", "--zip", str(PACKAGE)],
        cwd=tmp_path,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin"),
            "HOME": str(tmp_path),
            "AWS_ACCESS_KEY_ID": "moto",
            "AWS_SECRET_ACCESS_KEY": "moto",
            "AWS_DEFAULT_REGION": REGION,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Deployment complete!" in result.stdout + result.stderr

    function = moto_client(moto_server, "lambda").get_function(FunctionName="voj-prod")
    config = function["Configuration"]
    role = moto_client(moto_server, "iam").get_role(RoleName="voj-prod-lambda")["Role"]["Arn"]
    assert config["Role"] == role  # the stack's role: Zappa manages none
    assert (config["Runtime"], config["Handler"]) == ("python3.12", "handler.lambda_handler")
    assert (config["MemorySize"], config["Timeout"]) == (1024, 30)

    rules = moto_client(moto_server, "events").list_rules()["Rules"]
    assert [r["ScheduleExpression"] for r in rules] == ["rate(4 minutes)"]  # keep_warm
    apis = moto_client(moto_server, "apigateway").get_rest_apis()["items"]
    assert [api["name"] for api in apis] == ["voj-prod"]

    # Zappa's own stack (API Gateway) is voj-prod: the core stack beside it is untouched.
    stacks = moto_client(moto_server, "cloudformation").describe_stacks()["Stacks"]
    status = {s["StackName"]: s["StackStatus"] for s in stacks}
    assert status[CORE_STACK] == "CREATE_COMPLETE"
    assert status["voj-prod"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    tables = moto_client(moto_server, "dynamodb").list_tables()["TableNames"]
    assert {"voj-books-prod", "voj-audio-chapters-prod"} <= set(tables)
