"""`zappa deploy`, `zappa update` and `zappa rollback` of the built package, against a moto server
(Zappa's aws_endpoint_urls): the release and rollback drill.

moto lacks three things of the Lambda API these commands call; tests/deploy/zappa_hooks/moto_gaps.py
fills exactly those, in the Zappa process, each named there and in docs/deploy.md. The same hook
records every AWS operation Zappa makes, for the deployer policy's check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from deploy.local.lambda_harness import CORE_STACK, REGION, moto_client, prod_on_moto
from tests.deploy.iam import uncovered

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"
ZAPPA = ROOT / ".venv-lambda" / "bin" / "zappa"
HOOKS = Path(__file__).parent / "zappa_hooks"
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


def code_sha256(path: Path) -> str:
    """Lambda's CodeSha256: the zip's SHA-256, base64."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def next_release(package: Path, target: Path) -> Path:
    """The same package with one more file: a second release with other code."""
    shutil.copy(package, target)
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("release.txt", "2\n")
    return target


class Zappa:
    def __init__(self, moto_server: str, workdir: Path) -> None:
        self.workdir = workdir
        self.operations = workdir / "operations.jsonl"
        settings = json.loads((ROOT / "zappa_settings.json").read_text())
        settings["prod"]["aws_endpoint_urls"] = dict.fromkeys(ZAPPA_SERVICES, moto_server)
        settings["prod"]["touch"] = False  # the API's URL is AWS's host name, not moto's
        self.settings = settings["prod"]
        (workdir / "zappa_settings.json").write_text(json.dumps(settings))

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ZAPPA), *args],
            cwd=self.workdir,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin"),
                "HOME": str(self.workdir),
                "AWS_ACCESS_KEY_ID": "moto",
                "AWS_SECRET_ACCESS_KEY": "moto",
                "AWS_DEFAULT_REGION": REGION,
                "PYTHONPATH": str(HOOKS),
                "VOJ_SHIM_CODE_STORE": str(self.workdir / "code"),
                "VOJ_RECORD_OPERATIONS": str(self.operations),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def __call__(self, *args: str) -> str:
        result = self.run(*args)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
        return output


def test_zappa_deploy_update_rollback_drill(built, moto_server, tmp_path):
    prod_on_moto(moto_server, ROOT / "deploy" / "stack.yaml")
    zappa = Zappa(moto_server, tmp_path)
    lambda_client = moto_client(moto_server, "lambda")

    def deployed() -> str:
        return lambda_client.get_function(FunctionName="voj-prod")["Configuration"]["CodeSha256"]

    def versions() -> dict[str, str]:
        listed = lambda_client.list_versions_by_function(FunctionName="voj-prod")["Versions"]
        return {v["Version"]: v["CodeSha256"] for v in listed if v["Version"] != "$LATEST"}

    v1, v2 = PACKAGE, next_release(PACKAGE, tmp_path / "voj-prod-2.zip")

    assert "Deployment complete!" in zappa("deploy", "prod", "--zip", str(v1))
    function = lambda_client.get_function(FunctionName="voj-prod")["Configuration"]
    role = moto_client(moto_server, "iam").get_role(RoleName="voj-prod-lambda")["Role"]["Arn"]
    assert function["Role"] == role  # the stack's role: Zappa manages none
    assert (function["Runtime"], function["Handler"]) == ("python3.12", "handler.lambda_handler")
    assert (function["MemorySize"], function["Timeout"]) == (1024, 30)
    rules = moto_client(moto_server, "events").list_rules()["Rules"]
    assert [r["ScheduleExpression"] for r in rules] == ["rate(4 minutes)"]  # keep_warm
    apis = moto_client(moto_server, "apigateway").get_rest_apis()["items"]
    assert [api["name"] for api in apis] == ["voj-prod"]
    # Zappa's own stack (API Gateway) is voj-prod: the core stack beside it is untouched.
    stacks = moto_client(moto_server, "cloudformation").describe_stacks()["Stacks"]
    status = {s["StackName"]: s["StackStatus"] for s in stacks}
    assert status[CORE_STACK] == "CREATE_COMPLETE"
    assert status["voj-prod"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    assert deployed() == code_sha256(v1)

    # Deploying twice is refused, and Zappa says what to run instead.
    again = zappa.run("deploy", "prod", "--zip", str(v1))
    assert again.returncode != 0
    assert "did you mean to call update" in again.stdout + again.stderr

    zappa("update", "prod", "--zip", str(v2))
    assert deployed() == code_sha256(v2)
    assert versions() == {"1": code_sha256(v1), "2": code_sha256(v2)}

    zappa("rollback", "prod", "-n", "1")
    assert deployed() == code_sha256(v1)  # v1's code again...
    # ...as a new version: a rollback is itself a version, and every earlier one is retained
    # (num_retained_versions 10: Zappa prunes only on update).
    assert versions() == {"1": code_sha256(v1), "2": code_sha256(v2), "3": code_sha256(v1)}
    retained = json.loads((ROOT / "zappa_settings.json").read_text())["dev"]
    assert retained["num_retained_versions"] == 10 and "num_retained_versions" not in zappa.settings

    # The trap docs/runbook.md warns of: `-n 1` again counts from the rollback's own version,
    # so it brings the bad release back.
    zappa("rollback", "prod", "-n", "1")
    assert deployed() == code_sha256(v2)

    recorded = [json.loads(line) for line in zappa.operations.read_text().splitlines()]
    assert {"lambda:UpdateFunctionCode", "lambda:ListVersionsByFunction"} <= {
        f"{r['service']}:{r['operation']}" for r in recorded
    }
    # The package bucket is the core stack's: Zappa found it and created none.
    assert "s3:CreateBucket" not in {f"{r['service']}:{r['operation']}" for r in recorded}
    assert uncovered(recorded) == []
