"""deploy/deployer-policy.json allows every AWS operation the deploy tools make (recorded at
botocore's event hooks against moto); the key rotation's are checked in test_rotation.py,
Zappa's in the release and rollback drill (test_zappa_deploy.py). The evaluator itself is
tests/deploy/iam.py."""

from __future__ import annotations

import json

import pytest

from deploy import opsdb, tools
from tests.deploy.iam import POLICY, actions, allowed, record_operations, uncovered
from voj.aws import aws_client

from .test_opsdb import database

CORE_PARAMS = {
    "ApiOrigin": "https://api.voj.test",
    "FrontendOrigin": "https://app.voj.test",
    "AlarmEmail": "ops@voj.test",
}

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse")


@pytest.fixture
def recorded(aws, monkeypatch, tmp_path) -> list[dict]:
    monkeypatch.setattr(tools, "KEYS", tmp_path / "keys")
    return record_operations(monkeypatch)


def test_policy_covers_the_deploy_tools(recorded, tmp_path):
    tools.secrets_put("prod")
    tools.keys_create("prod")
    tools.stack_plan("prod", "core", CORE_PARAMS)  # a plan left unapplied is cleaned up next
    tools.stack_apply("prod", "core", CORE_PARAMS, yes=True)
    tools.stack_apply("prod", "core", {}, yes=True)
    tools.stack_apply("prod", "edge", {}, yes=True)
    tools.stack_outputs("prod", "core")
    s3 = aws_client("s3")
    s3.put_bucket_versioning(
        Bucket="voj-audiobooks-prod", VersioningConfiguration={"Status": "Enabled"}
    )
    first = s3.put_object(
        Bucket="voj-audiobooks-prod", Key=opsdb.KEY, Body=database(tmp_path, "a")
    )["VersionId"]
    s3.put_object(Bucket="voj-audiobooks-prod", Key=opsdb.KEY, Body=database(tmp_path, "b"))
    opsdb.versions("prod", bucket="voj-audiobooks-prod")
    opsdb.restore("prod", first, yes=True, bucket="voj-audiobooks-prod")

    made = {f"{r['service']}:{r['operation']}" for r in recorded}
    assert {
        "ssm:PutParameter",
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
        "s3:ListObjectVersions",
        "s3:CopyObject",
    } <= made
    assert uncovered(recorded) == []


def test_evaluator_is_strict():
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": ["lambda:Get*", "s3:PutObject"], "Resource": "*"},
            {"Effect": "Deny", "Action": "lambda:GetPolicy", "Resource": "*"},
        ]
    }
    assert allowed("lambda:GetFunction", policy)
    assert not allowed("lambda:GetPolicy", policy)  # an explicit Deny wins
    assert not allowed("lambda:UpdateFunctionCode", policy)
    assert not allowed("s3:PutObjectAcl", policy)  # a name is not a prefix
    record = {"service": "s3", "operation": "GetObject", "method": "GET", "params": ["VersionId"]}
    assert actions(record) == ["s3:GetObjectVersion"]
    create = {
        "service": "lambda",
        "operation": "CreateFunction",
        "method": "POST",
        "params": ["FunctionName", "Role"],
    }
    assert uncovered([create], policy) == ["iam:PassRole", "lambda:CreateFunction"]


def test_policy_is_scoped_to_the_project():
    """Only actions without resource-level permissions, or on resources named at run time by
    AWS (CloudFront ids, certificates), get "*"; everything else names voj's resources."""
    document = json.loads(POLICY.read_text())
    unscoped = {
        s["Sid"]
        for s in document["Statement"]
        if "*" in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }
    assert unscoped == {
        "TemplatesAndExports",
        "KeepWarmLookup",
        "LogGroupLookup",
        "CdnKeysAndOriginAccess",
        "ApiCertificate",
    }
    assert all(s["Effect"] == "Allow" for s in document["Statement"])
    assert not any(a in ("*", "iam:*", "s3:*") for s in document["Statement"] for a in s["Action"])
    pass_role = next(s for s in document["Statement"] if "iam:PassRole" in s["Action"])
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
