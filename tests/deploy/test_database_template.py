"""The optional database stack (deploy/database.yaml): what it promises, read from the template
(cfn-lint runs on it with the others in test_templates.py)."""

from __future__ import annotations

from pathlib import Path

from voj.dynamodb_tables import template_resources

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def resources() -> dict:
    return template_resources(DEPLOY / "database.yaml")


def of_type(kind: str) -> dict:
    return {name: r for name, r in resources().items() if r["Type"] == kind}


def test_the_master_password_is_made_and_kept_by_rds():
    cluster = resources()["DatabaseCluster"]["Properties"]
    assert cluster["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in cluster
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["StorageEncrypted"] is True and cluster["DeletionProtection"] is True
    assert set(cluster["ServerlessV2ScalingConfiguration"]) == {"MinCapacity", "MaxCapacity"}
    parameters = resources()["DatabaseParameters"]["Properties"]["Parameters"]
    assert parameters["rds.force_ssl"] == "1"
    instance = resources()["DatabaseInstance"]["Properties"]
    assert instance["PubliclyAccessible"] is False
    assert instance["DBInstanceClass"] == "db.serverless"


def test_only_the_function_reaches_the_database():
    ingress = of_type("AWS::EC2::SecurityGroupIngress")
    assert [r["Properties"]["SourceSecurityGroupId"] for r in ingress.values()] == [
        {"!Ref": "FunctionSecurityGroup"}
    ]
    database = resources()["DatabaseSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in database
    assert database["SecurityGroupEgress"] == [
        {
            "Description": "No egress (a rule to the loopback replaces the allow-all default)",
            "IpProtocol": "-1",
            "CidrIp": "127.0.0.1/32",
        }
    ]


def test_endpoints_free_where_possible():
    endpoints = {
        r["Properties"]["ServiceName"]["!Sub"].rsplit(".", 1)[1]: r["Properties"]
        for r in of_type("AWS::EC2::VPCEndpoint").values()
    }
    assert endpoints["s3"]["VpcEndpointType"] == "Gateway"
    assert endpoints["dynamodb"]["VpcEndpointType"] == "Gateway"
    assert endpoints["ssm"]["VpcEndpointType"] == "Interface"  # no gateway kind exists
    # No NAT unless asked for (CloudFront's API has no endpoint: docs/deploy.md).
    assert all(
        r.get("Condition") == "WithNat"
        for r in resources().values()
        if r["Type"] in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway")
    )


def test_the_function_role_gets_network_interfaces_only():
    policy = resources()["FunctionVpcAccess"]["Properties"]["PolicyDocument"]
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions <= {
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
