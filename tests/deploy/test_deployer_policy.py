"""deploy/deployer-policy.json allows every AWS operation the deploy tools make (recorded at
botocore's event hooks against moto); the key rotation's are checked in test_rotation.py,
Zappa's in the release and rollback drill (test_zappa_deploy.py). The evaluator itself is
tests/deploy/iam.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy import domain, keys, opsdb, shared, stacks, stage_secrets, throttle
from deploy.local.lambda_harness import CORE_TEST_PARAMETERS as CORE_PARAMS
from tests.deploy.cloudformation_gaps import install as install_cloudformation_gaps
from tests.deploy.iam import POLICY, actions, allowed, record_operations, uncovered
from tests.deploy.zappa_hooks import moto_http_api
from voj.aws import aws_client

from .test_domain import shim_regional_target
from .test_opsdb import database

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse")


@pytest.fixture
def recorded(aws, monkeypatch, tmp_path) -> list[dict]:
    monkeypatch.setattr(keys, "KEYS", tmp_path / "keys")
    records = record_operations(monkeypatch)
    # moto has no UpdateStage for HTTP APIs: shimmed (docs/deploy.md, http-api-update-stage).
    recording = shared.client
    monkeypatch.setattr(
        shared, "client", lambda *a, **k: moto_http_api.register(recording(*a, **k))
    )
    install_cloudformation_gaps(monkeypatch)  # the core stack's outputs after its change set
    return records


def test_policy_covers_the_deploy_tools(recorded, tmp_path, monkeypatch):
    stage_secrets.secrets_put("prod")
    keys.keys_create("prod")
    stacks.stack_plan("prod", "core", CORE_PARAMS)  # a plan left unapplied is cleaned up next
    stacks.stack_apply("prod", "core", CORE_PARAMS, yes=True)
    stacks.stack_apply("prod", "core", {}, yes=True)
    stacks.stack_apply("prod", "edge", {}, yes=True)
    stacks.stack_outputs("prod", "core")
    # The HTTP API as Zappa's stack makes it; then what the release and the alarms do with it.
    api = aws_client("apigatewayv2").create_api(Name="voj-prod", ProtocolType="HTTP")
    aws_client("apigatewayv2").create_stage(ApiId=api["ApiId"], StageName="prod")
    throttle.stage_throttle("prod")
    shim_regional_target(monkeypatch)
    domain.domain("prod", "api.voj.test", "arn:aws:acm:ap-northeast-2:1:certificate/x")
    stacks.stack_apply("prod", "monitoring", {}, yes=True)
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
        "apigateway:UpdateStage",
        "apigateway:CreateApiMapping",
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


# What CloudFormation calls with the deployer's credentials to create each resource type of
# deploy/*.yaml (and of Zappa's API Gateway stack), per the resource types' handler permissions.
STACK_RESOURCE_ACTIONS = {
    "AWS::S3::Bucket": [
        "s3:CreateBucket",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketVersioning",
        "s3:PutBucketCORS",
        "s3:PutLifecycleConfiguration",
        "s3:PutMetricsConfiguration",
        "s3:PutBucketTagging",
    ],
    "AWS::S3::BucketPolicy": ["s3:PutBucketPolicy", "s3:GetBucketPolicy"],
    "AWS::DynamoDB::Table": [
        "dynamodb:CreateTable",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:DescribeContinuousBackups",
    ],
    "AWS::Logs::LogGroup": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
    "AWS::IAM::Role": ["iam:CreateRole", "iam:GetRole", "iam:PutRolePolicy"],
    "AWS::IAM::RolePolicy": ["iam:PutRolePolicy", "iam:GetRolePolicy"],
    "AWS::SNS::Topic": ["sns:CreateTopic", "sns:GetTopicAttributes"],
    "AWS::SNS::Subscription": ["sns:Subscribe"],
    "AWS::CloudWatch::Alarm": ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms"],
    "AWS::CloudFront::PublicKey": ["cloudfront:CreatePublicKey", "cloudfront:GetPublicKey"],
    "AWS::CloudFront::KeyGroup": ["cloudfront:CreateKeyGroup", "cloudfront:GetKeyGroup"],
    "AWS::CloudFront::OriginAccessControl": ["cloudfront:CreateOriginAccessControl"],
    "AWS::CloudFront::Distribution": [
        "cloudfront:CreateDistribution",
        "cloudfront:GetDistribution",
        "cloudfront:TagResource",
    ],
}
# Zappa's own stack: the HTTP API (apigateway_version v2), its integration, route and stage
# (API Gateway authorises them by method on /apis/...), and the permission for API Gateway to
# invoke the function (its `snapstart` alias in prod).
ZAPPA_STACK_ACTIONS = [
    "apigateway:POST",
    "apigateway:GET",
    "apigateway:PUT",
    "apigateway:PATCH",
    "apigateway:DELETE",
    "lambda:AddPermission",
]


def _stack_types(*files) -> set[str]:
    import re

    return {t for f in files for t in re.findall(r"Type: (AWS::\S+)", f.read_text())}


DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# The optional PostgreSQL stack (docs/deploy.md, section 12) has a policy of its own: a deployer
# who never creates it needs no EC2, RDS or IAM-policy rights.
DATABASE_TEMPLATE = DEPLOY / "database.yaml"
DATABASE_POLICY = DEPLOY / "deployer-policy-database.json"


def test_policy_covers_what_cloudformation_creates_for_the_stacks():
    types = _stack_types(*(f for f in DEPLOY.glob("*.yaml") if f != DATABASE_TEMPLATE))
    assert types <= set(STACK_RESOURCE_ACTIONS), types - set(STACK_RESOURCE_ACTIONS)
    needed = {a for t in types for a in STACK_RESOURCE_ACTIONS[t]} | set(ZAPPA_STACK_ACTIONS)
    assert sorted(a for a in needed if not allowed(a)) == []


DATABASE_RESOURCE_ACTIONS = {
    "AWS::EC2::VPC": ["ec2:CreateVpc", "ec2:DescribeVpcs", "ec2:ModifyVpcAttribute"],
    "AWS::EC2::Subnet": ["ec2:CreateSubnet", "ec2:DescribeSubnets"],
    "AWS::EC2::InternetGateway": ["ec2:CreateInternetGateway"],
    "AWS::EC2::VPCGatewayAttachment": ["ec2:AttachInternetGateway"],
    "AWS::EC2::EIP": ["ec2:AllocateAddress"],
    "AWS::EC2::NatGateway": ["ec2:CreateNatGateway", "ec2:DescribeNatGateways"],
    "AWS::EC2::RouteTable": ["ec2:CreateRouteTable"],
    "AWS::EC2::Route": ["ec2:CreateRoute"],
    "AWS::EC2::SubnetRouteTableAssociation": ["ec2:AssociateRouteTable"],
    "AWS::EC2::SecurityGroup": ["ec2:CreateSecurityGroup", "ec2:DescribeSecurityGroups"],
    "AWS::EC2::SecurityGroupIngress": ["ec2:AuthorizeSecurityGroupIngress"],
    "AWS::EC2::SecurityGroupEgress": ["ec2:AuthorizeSecurityGroupEgress"],
    "AWS::EC2::VPCEndpoint": ["ec2:CreateVpcEndpoint", "ec2:DescribeVpcEndpoints"],
    "AWS::RDS::DBSubnetGroup": ["rds:CreateDBSubnetGroup"],
    "AWS::RDS::DBClusterParameterGroup": ["rds:CreateDBClusterParameterGroup"],
    "AWS::RDS::DBCluster": ["rds:CreateDBCluster", "secretsmanager:CreateSecret"],
    "AWS::RDS::DBInstance": ["rds:CreateDBInstance", "rds:DescribeDBInstances"],
    "AWS::IAM::ManagedPolicy": ["iam:CreatePolicy", "iam:AttachRolePolicy"],
}


def test_the_database_policy_covers_the_optional_database_stack():
    types = _stack_types(DATABASE_TEMPLATE) - set(STACK_RESOURCE_ACTIONS)
    assert types <= set(DATABASE_RESOURCE_ACTIONS), types - set(DATABASE_RESOURCE_ACTIONS)
    policy = json.loads(DATABASE_POLICY.read_text())
    needed = {a for t in types for a in DATABASE_RESOURCE_ACTIONS[t]}
    assert sorted(a for a in needed if not allowed(a, policy)) == []
    # Never a wildcard action, and nothing the core policy already grants.
    assert not any("*" in a.split(":")[0] for s in policy["Statement"] for a in s["Action"])
    assert sorted(a for a in needed if allowed(a) and not a.startswith("secretsmanager:")) == []
