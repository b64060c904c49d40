"""`zappa deploy`, `zappa update` and `zappa rollback` of the built package, against a moto server
(Zappa's aws_endpoint_urls): the release and rollback drill.

moto lacks three things of the Lambda API these commands call (zappa_hooks/moto_gaps.py) and
makes no HTTP API from Zappa's stack (zappa_hooks/moto_http_api.py); the hooks fill exactly
those, in the Zappa process, each named there and in docs/deploy.md. The same hook records every
AWS operation Zappa makes, for the deployer policy's check.
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

from deploy.local.lambda_harness import REGION, moto_client, stage_on_moto
from deploy.stacks import stack_name
from tests.deploy.iam import uncovered

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"
ZAPPA = ROOT / ".venv-lambda" / "bin" / "zappa"
HOOKS = Path(__file__).parent / "zappa_hooks"
# Every client Zappa builds (zappa/core.py), all sent to the moto server.
ZAPPA_SERVICES = [
    "acm",
    "apigateway",
    "apigatewayv2",
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


def next_release(package: Path, target: Path, number: int) -> Path:
    """The same package with one more file: another release, with other code."""
    shutil.copy(package, target)
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("release.txt", f"{number}\n")
    return target


class Zappa:
    def __init__(self, moto_server: str, workdir: Path) -> None:
        self.workdir = workdir
        self.operations = workdir / "operations.jsonl"
        self.settings = json.loads((ROOT / "zappa_settings.json").read_text())
        for stage in ("dev", "prod"):
            self.settings[stage]["aws_endpoint_urls"] = dict.fromkeys(ZAPPA_SERVICES, moto_server)
            self.settings[stage]["touch"] = False  # the API's URL is AWS's host, not moto's
        (workdir / "zappa_settings.json").write_text(json.dumps(self.settings))

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


class Function:
    """The stage's function on the moto server, as API Gateway reaches it."""

    def __init__(self, moto_server: str, stage: str, shim_store: Path) -> None:
        self.name = f"voj-{stage}"
        # Versions Zappa deleted (moto_gaps.py, version-numbers-after-delete).
        self.deleted = shim_store / "deleted-versions"
        self.lambda_client = moto_client(moto_server, "lambda")
        self.apigateway = moto_client(moto_server, "apigatewayv2")

    def versions(self) -> dict[int, str]:
        """Published version -> its CodeSha256."""
        listed = self.lambda_client.list_versions_by_function(FunctionName=self.name)["Versions"]
        gone = set(self.deleted.read_text().split()) if self.deleted.exists() else set()
        return {
            int(v["Version"]): v["CodeSha256"]
            for v in listed
            if v["Version"] != "$LATEST" and f"{self.name}:{v['Version']}" not in gone
        }

    def integration_uri(self) -> str:
        (api,) = [a for a in self.apigateway.get_apis()["Items"] if a["Name"] == self.name]
        (integration,) = self.apigateway.get_integrations(ApiId=api["ApiId"])["Items"]
        return integration["IntegrationUri"]

    def served(self) -> str:
        """The CodeSha256 of what the HTTP API invokes: the function's alias or version its
        integration names, else $LATEST."""
        arn = self.integration_uri()
        qualifier = arn.split(":")[7] if arn.count(":") == 7 else "$LATEST"
        if qualifier not in ("$LATEST",) and not qualifier.isdigit():
            qualifier = self.lambda_client.get_alias(FunctionName=self.name, Name=qualifier)[
                "FunctionVersion"
            ]
        return self.lambda_client.get_function(FunctionName=self.name, Qualifier=qualifier)[
            "Configuration"
        ]["CodeSha256"]

    def state(self) -> dict:
        aliases = self.lambda_client.list_aliases(FunctionName=self.name)["Aliases"]
        return {
            "versions": self.versions(),
            "aliases": {a["Name"]: a["FunctionVersion"] for a in aliases},
            "integration": self.integration_uri(),
        }

    def rollback_n(self) -> int:
        """The `-n` that reaches the release before the one served (docs/runbook.md): Zappa
        counts down the versions from the newest; the first whose code differs."""
        live = self.served()
        newest_first = [sha for _, sha in sorted(self.versions().items(), reverse=True)]
        return next(n for n, sha in enumerate(newest_first) if sha != live)


def test_zappa_deploy_update_rollback_drill(built, moto_server, tmp_path):
    for stage in ("dev", "prod"):
        stage_on_moto(moto_server, ROOT / "deploy" / "stack.yaml", stage)
    zappa = Zappa(moto_server, tmp_path)
    releases = [PACKAGE, *(next_release(PACKAGE, tmp_path / f"r{n}.zip", n) for n in (2, 3, 4))]
    sha = [code_sha256(release) for release in releases]

    for stage in ("dev", "prod"):
        assert "Deployment complete!" in zappa("deploy", stage, "--zip", str(releases[0]))
    dev, prod = (Function(moto_server, stage, tmp_path / "code") for stage in ("dev", "prod"))
    lambda_client = dev.lambda_client
    for function, stage in ((dev, "dev"), (prod, "prod")):
        config = lambda_client.get_function(FunctionName=function.name)["Configuration"]
        role = moto_client(moto_server, "iam").get_role(RoleName=f"voj-{stage}-lambda")["Role"]
        assert config["Role"] == role["Arn"]  # the stack's role: Zappa manages none
        assert (config["Runtime"], config["Handler"]) == ("python3.12", "handler.lambda_handler")
        assert (config["MemorySize"], config["Timeout"]) == (1024, 30)
        assert function.served() == sha[0]
    # The HTTP API: dev's invokes the function ($LATEST), prod's the SnapStart alias, which
    # Zappa points at each release's last published version.
    assert dev.integration_uri().endswith(":function:voj-dev")
    assert prod.integration_uri().endswith(":function:voj-prod:snapstart")
    assert moto_client(moto_server, "apigateway").get_rest_apis()["items"] == []
    assert moto_client(moto_server, "events").list_rules()["Rules"] == []  # no keep-warm rule
    # Zappa's own stacks are voj-STAGE: the core stacks beside them are untouched.
    stacks = moto_client(moto_server, "cloudformation").describe_stacks()["Stacks"]
    status = {s["StackName"]: s["StackStatus"] for s in stacks}
    for stage in ("dev", "prod"):
        assert status[stack_name(stage, "core")] == "CREATE_COMPLETE"
        assert status[f"voj-{stage}"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}

    # Deploying twice is refused, and Zappa says what to run instead.
    again = zappa.run("deploy", "prod", "--zip", str(releases[0]))
    assert again.returncode != 0
    assert "did you mean to call update" in again.stdout + again.stderr

    _dev_updates_and_rolls_back(zappa, dev, releases, sha)
    _prod_updates_and_rolls_back(zappa, prod, releases, sha)

    recorded = [json.loads(line) for line in zappa.operations.read_text().splitlines()]
    made = {f"{r['service']}:{r['operation']}" for r in recorded}
    assert {
        "lambda:UpdateFunctionCode",
        "lambda:ListVersionsByFunction",
        "lambda:PublishVersion",
        "lambda:CreateAlias",
        "lambda:UpdateAlias",
        "lambda:DeleteFunction",  # pruning
    } <= made
    # Zappa asked for SnapStart on prod's function only (moto keeps no SnapStart setting).
    asked = {(r["function"], r["snap_start"]) for r in recorded if "snap_start" in r}
    assert asked == {("voj-dev", "None"), ("voj-prod", "PublishedVersions")}
    # The package bucket is the core stack's: Zappa found it and created none.
    assert "s3:CreateBucket" not in made
    assert uncovered(recorded) == []


def _dev_updates_and_rolls_back(zappa, dev, releases, sha):
    """Without SnapStart each update publishes one version: `-n 1` is the release before."""
    zappa("update", "dev", "--zip", str(releases[1]))
    assert dev.served() == sha[1]
    assert dev.versions() == {1: sha[0], 2: sha[1]}
    assert dev.rollback_n() == 1
    zappa("rollback", "dev", "-n", "1")
    assert dev.served() == sha[0]
    assert dev.versions() == {1: sha[0], 2: sha[1], 3: sha[0]}  # a rollback is itself a version


def _prod_updates_and_rolls_back(zappa, prod, releases, sha):
    """With SnapStart each update publishes two versions (the code, then the configuration,
    which the alias takes); num_retained_versions 4 keeps the release before through pruning."""
    retained = zappa.settings["prod"]["num_retained_versions"]
    assert retained == 4
    for number in (1, 2, 3):
        zappa("update", "prod", "--zip", str(releases[number]))
        assert prod.served() == sha[number], (prod.state(), sha)
        versions = prod.versions()
        assert len(versions) <= retained + 1  # pruned before the second publish
        # The two newest hold this release; the previous release is still there, at -n 2.
        newest = sorted(versions, reverse=True)
        assert [versions[v] for v in newest[:3]] == [sha[number], sha[number], sha[number - 1]]
        assert prod.rollback_n() == 2
    assert min(prod.versions()) > 1  # pruning ran: the first release's versions are gone

    zappa("rollback", "prod", "-n", "2")
    assert prod.served() == sha[2]  # the alias API Gateway invokes holds the release before
    # The rollback's own version is newest now, and Zappa counts from it: `-n 1` would bring
    # the bad release back (the trap docs/runbook.md warns of); the release before the restored
    # one is five below.
    versions = prod.versions()
    newest = [versions[v] for v in sorted(versions, reverse=True)]
    assert newest == [sha[2], sha[3], sha[3], sha[2], sha[2], sha[1]]
    assert prod.rollback_n() == 1
