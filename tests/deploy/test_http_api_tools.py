"""`python -m deploy domain` (the HTTP API's regional custom domain) following a stage deployed
anew, and `python -m deploy status` naming the rollback to the code before the served code
(SnapStart's two versions per update counted), against moto."""

from __future__ import annotations

import io
import zipfile

import pytest

from deploy import cli
from voj.aws import aws_client

from .test_domain import shim_regional_target

CERTIFICATE = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0000"


def http_api(stage: str) -> str:
    """An HTTP API with its stage, as Zappa's stack makes it."""
    apigateway = aws_client("apigatewayv2")
    api = apigateway.create_api(Name=f"voj-{stage}", ProtocolType="HTTP")
    apigateway.create_stage(ApiId=api["ApiId"], StageName=stage, AutoDeploy=True)
    return api["ApiId"]


def test_domain_maps_the_stage_api_and_follows_a_new_one(aws, capsys, monkeypatch):
    shim_regional_target(monkeypatch)  # docs/deploy.md: regional-domain-target
    apigateway = aws_client("apigatewayv2")
    command = ["domain", "prod", "--name", "api.voj.test", "--certificate-arn", CERTIFICATE]
    with pytest.raises(SystemExit, match="deploy first"):
        cli.main(command)
    http_api("dev")
    first = http_api("prod")
    cli.main(command)
    cli.main(command)  # again: nothing new
    config = apigateway.get_domain_name(DomainName="api.voj.test")["DomainNameConfigurations"]
    assert [(c["EndpointType"], c["CertificateArn"]) for c in config] == [("REGIONAL", CERTIFICATE)]
    mappings = apigateway.get_api_mappings(DomainName="api.voj.test")["Items"]
    assert [(m["ApiId"], m["Stage"], m.get("ApiMappingKey", "")) for m in mappings] == [
        (first, "prod", "")
    ]
    assert "CNAME" in capsys.readouterr().out
    # The stage deployed anew (zappa undeploy, deploy): the mapping moves to the new API.
    apigateway.delete_api(ApiId=first)
    second = http_api("prod")
    cli.main(command)
    mappings = apigateway.get_api_mappings(DomainName="api.voj.test")["Items"]
    assert [(m["ApiId"], m["Stage"]) for m in mappings] == [(second, "prod")]


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", text)
    return buffer.getvalue()


def test_status_names_the_rollback_to_the_code_before_the_served_code(aws, capsys):
    """prod (SnapStart) as Zappa leaves it: release A deployed (version 1), release B updated
    (2: its code, 3: its configuration, the alias on 3), then rolled back to A (4)."""
    role = aws_client("iam").create_role(RoleName="voj-prod-lambda", AssumeRolePolicyDocument="{}")
    lambda_client = aws_client("lambda")
    a, b = _zip("A = 1\n"), _zip("B = 2\n")
    lambda_client.create_function(
        FunctionName="voj-prod",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.lambda_handler",
        Code={"ZipFile": a},
        Publish=True,
    )
    lambda_client.create_alias(FunctionName="voj-prod", Name="snapstart", FunctionVersion="1")
    cli.main(["status", "prod"])
    assert "no retained version" in capsys.readouterr().out
    lambda_client.update_function_code(FunctionName="voj-prod", ZipFile=b, Publish=True)
    lambda_client.update_function_configuration(FunctionName="voj-prod", Description="B")
    lambda_client.publish_version(FunctionName="voj-prod")
    lambda_client.update_alias(FunctionName="voj-prod", Name="snapstart", FunctionVersion="3")
    cli.main(["status", "prod"])
    out = capsys.readouterr().out
    assert "--to-version 1` (the same code as `zappa rollback prod -n 2`" in out
    lambda_client.update_function_code(FunctionName="voj-prod", ZipFile=a, Publish=True)
    lambda_client.update_alias(FunctionName="voj-prod", Name="snapstart", FunctionVersion="4")
    # After the rollback the newest other code is the bad release's: docs/runbook.md's trap,
    # which the listing shows (versions 3 and 2 hold B).
    cli.main(["status", "prod"])
    out = capsys.readouterr().out
    assert "* 4 " in out  # the alias's version, marked
    assert "--to-version 3` (the same code as `zappa rollback prod -n 1`" in out
