"""Stack updates keep what they are not told: the change-set requests, as sent to moto."""

from __future__ import annotations

import pytest

from deploy import keys, shared, stacks
from deploy.local.lambda_harness import CORE_TEST_PARAMETERS as CORE_PARAMS
from voj.aws import aws_client

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse")


@pytest.fixture
def change_sets(aws, monkeypatch) -> list[dict]:
    """Every CreateChangeSet request the tools send, captured at botocore's event hook."""
    sent: list[dict] = []
    build = shared.client

    def client(service, region=shared.REGION):
        built = build(service, region)
        if service == "cloudformation":
            built.meta.events.register(
                "provide-client-params.cloudformation.CreateChangeSet",
                lambda params, **kwargs: sent.append(params),
            )
        return built

    monkeypatch.setattr(shared, "client", client)
    return sent


@pytest.fixture
def keys_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "KEYS", tmp_path / "keys")
    return tmp_path / "keys"


def stack_parameters(name: str) -> dict[str, str]:
    stack = aws_client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def by_key(request: dict) -> dict[str, dict]:
    return {p["ParameterKey"]: p for p in request["Parameters"]}


def test_update_without_params_keeps_previous_values(change_sets, capsys):
    assert stacks.stack_apply("prod", "core", CORE_PARAMS, yes=True) == "CREATE_COMPLETE"
    created = by_key(change_sets[-1])
    assert change_sets[-1]["ChangeSetType"] == "CREATE"
    assert {k: p["ParameterValue"] for k, p in created.items()} == {"Stage": "prod", **CORE_PARAMS}

    capsys.readouterr()
    plan = stacks.stack_plan("prod", "core", {})
    sent = by_key(change_sets[-1])
    assert change_sets[-1]["ChangeSetType"] == "UPDATE"
    assert sent["Stage"] == {"ParameterKey": "Stage", "ParameterValue": "prod"}
    for key in CORE_PARAMS:
        assert sent[key] == {"ParameterKey": key, "UsePreviousValue": True}
    out = capsys.readouterr().out
    assert "https://api.voj.test" in out and "(previous)" in out and "(derived)" in out
    assert {p.key: p.source for p in plan["parameters"]} == {
        "Stage": "derived",
        "ApiOrigin": "previous",
        "FrontendOrigin": "previous",
        "AlarmEmail": "previous",
        # The tables in service stay as a restore left them (docs/runbook.md).
        **dict.fromkeys(
            (f"{k}TableInService" for k in ("Books", "Chapters", "Security", "Listening")),
            "previous",
        ),
    }

    # One value given: that one changes, the others stay.
    stacks.stack_apply("prod", "core", {"AlarmEmail": "oncall@voj.test"}, yes=True)
    assert by_key(change_sets[-1])["AlarmEmail"]["ParameterValue"] == "oncall@voj.test"
    assert by_key(change_sets[-1])["ApiOrigin"] == {
        "ParameterKey": "ApiOrigin",
        "UsePreviousValue": True,
    }
    assert stack_parameters("voj-prod-core") == {
        "Stage": "prod",
        **CORE_PARAMS,
        "AlarmEmail": "oncall@voj.test",
        **{f"{k}TableInService": "" for k in ("Books", "Chapters", "Security", "Listening")},
    }


def test_a_new_stack_needs_its_required_parameters(change_sets):
    with pytest.raises(SystemExit, match=r"--param ApiOrigin=\.\.\. --param FrontendOrigin=\.\.\."):
        stacks.stack_plan("prod", "core", {"AlarmEmail": "ops@voj.test"})
    with pytest.raises(SystemExit, match="has no parameter ApiOrgin"):
        stacks.stack_plan("prod", "core", {**CORE_PARAMS, "ApiOrgin": "https://x.test"})
    assert change_sets == []  # refused before anything was sent


def test_edge_update_cannot_change_the_keys_by_omission(change_sets, keys_dir, capsys):
    stacks.stack_apply("prod", "core", CORE_PARAMS, yes=True)
    keys.keys_create("prod")
    assert stacks.stack_apply("prod", "edge", {}, yes=True) == "CREATE_COMPLETE"
    created = by_key(change_sets[-1])
    assert created["CloudFrontPublicKey"]["ParameterValue"].startswith("-----BEGIN PUBLIC KEY")
    assert "KeyGeneration" not in created  # the template's default, 1
    first_key = stack_parameters("voj-prod-edge")["CloudFrontPublicKey"]

    # A rotation moved the stack on; then this machine's key file is another one and the
    # operator runs a plain edge update: the stack keeps the keys and generations it has.
    stacks.stack_apply("prod", "edge", {"NextKeyGeneration": "2"}, yes=True)
    keys.public_key_path("prod").write_text("-----BEGIN PUBLIC KEY-----\nother\n")
    capsys.readouterr()
    stacks.stack_plan("prod", "edge", {})
    sent = by_key(change_sets[-1])
    for key in ("CloudFrontPublicKey", "KeyGeneration", "CloudFrontPublicKeyNext"):
        assert sent[key] == {"ParameterKey": key, "UsePreviousValue": True}
    assert sent["NextKeyGeneration"] == {
        "ParameterKey": "NextKeyGeneration",
        "UsePreviousValue": True,
    }
    assert "is not the stack's key" in capsys.readouterr().out
    assert stack_parameters("voj-prod-edge")["CloudFrontPublicKey"] == first_key
    assert stack_parameters("voj-prod-edge")["NextKeyGeneration"] == "2"


def test_monitoring_watches_the_stages_http_api(change_sets):
    """The alarms read the HTTP API's metrics by ApiId: the tool finds the API Zappa made."""
    stacks.stack_apply("prod", "core", CORE_PARAMS, yes=True)
    with pytest.raises(SystemExit, match="--param ApiId="):
        stacks.stack_plan("prod", "monitoring", {})  # before the first zappa deploy
    apigateway = aws_client("apigatewayv2")
    apigateway.create_api(Name="voj-dev", ProtocolType="HTTP")
    api = apigateway.create_api(Name="voj-prod", ProtocolType="HTTP")
    stacks.stack_plan("prod", "monitoring", {})
    assert by_key(change_sets[-1])["ApiId"] == {
        "ParameterKey": "ApiId",
        "ParameterValue": api["ApiId"],
    }
