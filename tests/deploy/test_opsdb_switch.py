"""The operator database's switch to PostgreSQL and back (`python -m deploy opsdb-switch`), drilled
against a moto server, a throwaway PostgreSQL and the packaged handler, with a sign-in at every
step: nobody is locked out.

moto cannot run a function (its Lambda needs Docker), so one gap is shimmed, named here and in
docs/deploy.md: **lambda-invoke-runs-the-package** — the tool's Invoke of the function is
answered by the built package's handler, unpacked and run the way Lambda runs it
(deploy/local/lambda_harness.py), a fresh process (a cold start) for each invocation.
`zappa update` itself is drilled in test_zappa_deploy.py; here the tool's call to it is recorded
and the throttling it resets is checked to be applied again.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import botocore.awsrequest
import pytest
from botocore.response import StreamingBody

from deploy import opsdb_switch, release, shared
from deploy.cli import main
from deploy.configure import stage_settings
from deploy.local.lambda_harness import (
    api_gateway_event,
    invoke,
    moto_client,
    prod_on_moto,
    runtime_dir,
    unpack,
)
from deploy.stage_secrets import put_parameter
from deploy.throttle import stage_throttle
from tests.deploy.iam import POLICY, record_operations, uncovered
from tests.deploy.zappa_hooks import moto_http_api
from tests.helpers import manage
from tests.servers import _clean_environment
from voj.opsdb.switch_state import PROGRESS_KEY, READ_ONLY_KEY, TASK

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"
DATABASE_POLICY = ROOT / "deploy" / "deployer-policy-database.json"
PASSWORD = "switch-pass-phrase-1"
UNREACHABLE = "postgresql://voj:never@127.0.0.1:1/voj"  # as from outside the VPC


@pytest.fixture(scope="module")
def package() -> Path:
    if not PACKAGE.exists():
        pytest.skip("run `make package` first")
    return PACKAGE


class Function:
    """The stage's function: the package run as Lambda runs it, a cold start per call."""

    def __init__(self, package: Path, env: dict[str, str], work: Path) -> None:
        self.task = unpack(package, work / "task")
        self.runtime = runtime_dir(work / "runtime")
        self.env = env

    def __call__(self, *events: dict) -> list[dict]:
        *answers, _loaded = invoke(self.task, self.runtime, list(events), self.env)
        return answers

    def login(self, username: str = "ops", password: str = PASSWORD) -> dict:
        event = api_gateway_event(
            "/api/v1/auth/login", method="POST", headers={"Content-Type": "application/json"}
        )
        event["body"] = json.dumps({"username": username, "password": password})
        answer, detailed = self(event, api_gateway_event("/api/v1/health/detailed"))
        return {
            "login": answer["status"],
            "code": json.loads(answer["body"]).get("code"),
            "health": detailed["status"],
        }

    def invoked(self, params: dict, **kwargs: Any) -> tuple:
        """botocore's before-call hook for lambda Invoke: the package answers."""
        (answer,) = self(json.loads(params["body"]))
        data = answer["body"].encode()
        parsed = {
            "StatusCode": 200,
            "Payload": StreamingBody(io.BytesIO(data), len(data)),
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return botocore.awsrequest.AWSResponse("", 200, {}, None), parsed


@pytest.fixture
def stage(package, moto_server, monkeypatch, tmp_path) -> Any:
    """The prod stage on moto, running on the S3 file with one operator; the function, the API
    Zappa made (its stage) and the tool's AWS clients pointed there. Whatever the switch
    writes in the shared moto server is removed afterwards."""
    env = prod_on_moto(moto_server, ROOT / "deploy" / "stack.yaml")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    env = {
        **env,
        "VOJ_OPSDB_KEY": f"system/test-{uuid.uuid4().hex}.sqlite3",
        "VOJ_OPSDB_PATH": str(tmp_path / "function-copy.sqlite3"),
    }
    stage_env = _clean_environment(
        **{**stage_settings("prod")["environment_variables"], **env},
        OPERATOR_PASSWORD_FOR_TEST=PASSWORD,
    )
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["create_operator", "--username", "ops", "--password-env", "OPERATOR_PASSWORD_FOR_TEST"],
        ["create_operator", "--username", "leaver", "--password-env", "OPERATOR_PASSWORD_FOR_TEST"],
    ):
        manage({**stage_env, "VOJ_OPSDB_PATH": str(tmp_path / "m.sqlite3")}, *command)
    apigateway = moto_client(moto_server, "apigatewayv2")
    # The HTTP API `zappa deploy` made: the release drill's, if it ran in this server, else one
    # here with its stage, as Zappa's stack makes them.
    made = [a["ApiId"] for a in apigateway.get_apis()["Items"] if a["Name"] == "voj-prod"]
    api = made[0] if made else apigateway.create_api(Name="voj-prod", ProtocolType="HTTP")["ApiId"]
    if not made:
        apigateway.create_stage(ApiId=api, StageName="prod", AutoDeploy=True)
    function = Function(package, env, tmp_path)
    function.records = record_operations(monkeypatch)  # for the deployer policies' check
    built = shared.client

    def client(service: str, *args: Any) -> Any:
        made = built(service, *args)
        if service == "lambda":
            made.meta.events.register("before-call.lambda.Invoke", function.invoked)
        if service == "apigatewayv2":  # docs/deploy.md: http-api-update-stage
            moto_http_api.register(made)
        return made

    monkeypatch.setattr(shared, "client", client)
    monkeypatch.setattr(opsdb_switch, "DRAIN_SECONDS", 0)
    function.zappa = []
    monkeypatch.setattr(opsdb_switch, "zappa", lambda *args: function.zappa.append(args))
    function.api = api
    try:
        yield function
    finally:
        ssm = moto_client(moto_server, "ssm")
        for name in ("DATABASE_URL", "DATABASE_URL_NEXT"):
            ssm.delete_parameters(Names=[f"/voj/prod/{name}"])
        for key in (READ_ONLY_KEY, PROGRESS_KEY):
            moto_client(moto_server, "dynamodb").delete_item(
                TableName="voj-security-prod", Key={"pk": {"S": key}}
            )
        if not made:
            apigateway.delete_api(ApiId=api)


def secret_set(name: str, value: str, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(value))
    main(["secrets", "set", "prod", name])


def throttling(moto_server: str, api: str) -> dict:
    stage = moto_client(moto_server, "apigatewayv2").get_stage(ApiId=api, StageName="prod")
    return stage.get("DefaultRouteSettings", {})


SIGNED_IN = {"login": 200, "code": None, "health": 200}


@pytest.mark.postgres
def test_switch_to_postgresql_and_back_signs_everyone_in(
    stage, moto_server, postgres_url, monkeypatch, capsys
):
    assert stage.login() == SIGNED_IN
    # Staged while the function cannot reach it (outside the VPC): nobody notices.
    secret_set("DATABASE_URL_NEXT", UNREACHABLE, monkeypatch)
    assert stage.login() == SIGNED_IN
    with pytest.raises(SystemExit, match="cannot reach the postgres database"):
        main(["opsdb-switch", "prod", "--to", "postgres"])
    assert stage.login() == SIGNED_IN  # and still writable: nothing changed
    main(["opsdb-switch", "prod", "--status"])
    assert "read-only: no" in capsys.readouterr().out

    # The function reaches it now (in the VPC). An update that fails leaves the stage switched
    # and read-only, with everyone still signing in; run again, the switch finishes.
    secret_set("DATABASE_URL_NEXT", postgres_url, monkeypatch)

    def update_fails(*args: str) -> None:
        raise SystemExit("failed: zappa update")

    monkeypatch.setattr(opsdb_switch, "zappa", update_fails)
    with pytest.raises(SystemExit, match="zappa update"):
        main(["opsdb-switch", "prod", "--to", "postgres"])
    assert stage.login() == SIGNED_IN
    main(["opsdb-switch", "prod", "--status"])
    status = capsys.readouterr().out
    assert "read-only: switch to postgres" in status and "copy" in status
    with pytest.raises(SystemExit, match="is made"):
        main(["opsdb-switch", "prod", "--abort"])
    monkeypatch.setattr(opsdb_switch, "zappa", lambda *args: stage.zappa.append(args))
    stage_throttle("prod", rate=1000, burst=2000)  # what a bare `zappa update` leaves
    main(["opsdb-switch", "prod", "--to", "postgres"])
    out = capsys.readouterr().out
    assert "== staged" not in out and "== switch" in out  # resumed where it stopped
    assert stage.zappa == [("update", "prod", "--zip", str(PACKAGE))]
    assert throttling(moto_server, stage.api)["ThrottlingBurstLimit"] == 200
    assert stage.login() == SIGNED_IN
    (running,) = stage({"command": TASK, "action": "summary", "to": "sqlite"})
    assert json.loads(running["body"])["active"] == "postgres"

    assert stage.login("leaver") == SIGNED_IN

    # An account made on PostgreSQL comes back to the file with the switch back; one deleted
    # there is deleted from the file too.
    local = _clean_environment(VOJ_ENV="local", DATABASE_URL=postgres_url, PW="made-on-pg-pass-2")
    manage(local, "create_operator", "--username", "pgops", "--password-env", "PW")
    gone = (
        "from django.contrib.auth.models import User; User.objects.get(username='leaver').delete()"
    )
    manage(local, "shell", "-c", gone)
    main(["opsdb-switch", "prod", "--to", "sqlite"])
    assert stage.login() == SIGNED_IN
    assert stage.login("pgops", "made-on-pg-pass-2") == SIGNED_IN
    assert stage.login("leaver")["login"] == 401
    assert stage.login("pgops", "wrong") == {**SIGNED_IN, "login": 401, "code": "no_active_account"}
    main(["opsdb-switch", "prod", "--status"])
    assert "names sqlite" in capsys.readouterr().out
    main(["opsdb-switch", "prod", "--to", "sqlite"])
    assert "already on sqlite" in capsys.readouterr().out
    # What the switch called is allowed by the deployer's policies, the database's included.
    policies = [json.loads(path.read_text()) for path in (POLICY, DATABASE_POLICY)]
    both = {"Statement": [statement for p in policies for statement in p["Statement"]]}
    assert uncovered(stage.records, both) == []


def test_a_database_the_function_cannot_reach_answers_503_json(stage):
    """What `secrets set DATABASE_URL` did before the switch existed: the function on a
    database it cannot reach. Sign-in and health say so in JSON, never an HTML 500."""
    stage.env = {**stage.env, "DATABASE_URL": UNREACHABLE}
    login = api_gateway_event(
        "/api/v1/auth/login", method="POST", headers={"Content-Type": "application/json"}
    )
    login["body"] = json.dumps({"username": "ops", "password": PASSWORD})
    answer, detailed = stage(login, api_gateway_event("/api/v1/health/detailed"))
    assert answer["status"] == 503, answer
    assert json.loads(answer["body"])["code"] == "operator_db_unavailable"
    assert detailed["status"] == 503
    assert json.loads(detailed["body"])["checks"]["database"]["status"] == "error"


@pytest.mark.postgres
def test_a_release_migrates_inside_the_function_when_only_it_reaches_the_database(
    stage, postgres_url, monkeypatch, capsys
):
    """From outside the VPC a release cannot migrate the PostgreSQL: it says so and the function
    runs the migrations right after the update (`python -m deploy migrate` likewise)."""
    assert release.reachable_from_here("prod")  # the S3 file
    put_parameter("prod", "DATABASE_URL", UNREACHABLE, overwrite=True)
    assert not release.reachable_from_here("prod")
    put_parameter("prod", "DATABASE_URL", postgres_url, overwrite=True)
    assert release.reachable_from_here("prod")
    monkeypatch.setattr(release, "reachable_from_here", lambda stage: False)
    main(["migrate", "prod"])
    out = capsys.readouterr().out
    assert "answers only inside its VPC" in out and "manage.py migrate" not in out
    assert "inside the function: " in out and "(postgres)" in out
    (summary,) = stage({"command": TASK, "action": "summary", "to": "postgres"})
    assert json.loads(summary["body"])["active"] == "postgres"
