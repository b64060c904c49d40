"""The custom domain of docs/deploy.md §9 on moto_server: `python -m deploy domain` makes the
regional HTTP API domain, maps it to the stage, prints the name to point DNS at, changes
nothing when run again, and calls only what the deployer policy allows (no Route 53).

moto's gap, shimmed here at botocore's event hooks (docs/deploy.md lists it):
- regional-domain-target: API Gateway answers CreateDomainName and
  GetDomainName with the regional target it made (ApiGatewayDomainName, HostedZoneId,
  DomainNameStatus) in each DomainNameConfiguration; moto returns the configuration as it was
  given. The shim adds what AWS would, derived from the domain, when it is missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from deploy import cli, domain, http_api, shared
from deploy.local.lambda_harness import REGION, moto_client
from deploy.local.processes import start_moto, stop
from tests.deploy.iam import record_operations, uncovered

NAME = "api.voj.test"


@pytest.fixture
def own_moto(monkeypatch) -> Iterator[str]:
    """A moto server of this test's own (one HTTP API named voj-prod), the tools pointed at it."""
    server, url = start_moto()
    for name, value in {
        "VOJ_AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "moto",
        "AWS_SECRET_ACCESS_KEY": "moto",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        yield url
    finally:
        stop(server)


def _regional_target(parsed, **kwargs):
    for configuration in parsed.get("DomainNameConfigurations", []):
        digest = hashlib.sha256(parsed["DomainName"].encode()).hexdigest()[:10]
        configuration.setdefault(
            "ApiGatewayDomainName", f"d-{digest}.execute-api.{REGION}.amazonaws.com"
        )
        configuration.setdefault("HostedZoneId", "Z2FDTNDATAQYW2")
        configuration.setdefault("DomainNameStatus", "AVAILABLE")


def shim_regional_target(monkeypatch) -> None:
    build = shared.client

    def client(service, region=shared.REGION):
        built = build(service, region)
        for operation in ("CreateDomainName", "GetDomainName"):
            built.meta.events.register(f"after-call.apigatewayv2.{operation}", _regional_target)
        return built

    monkeypatch.setattr(shared, "client", client)


def test_custom_domain_on_the_http_api(own_moto, monkeypatch, capsys):
    v2 = moto_client(own_moto, "apigatewayv2")
    with pytest.raises(SystemExit, match="deploy first"):
        http_api.api_id("prod")
    api = v2.create_api(Name="voj-prod", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=api, StageName="prod", AutoDeploy=True)
    v2.create_api(Name="voj-dev", ProtocolType="HTTP")
    certificate = moto_client(own_moto, "acm").request_certificate(
        DomainName=NAME, ValidationMethod="DNS"
    )["CertificateArn"]
    recorded = record_operations(monkeypatch)
    shim_regional_target(monkeypatch)

    cli.main(["domain", "prod", "--name", NAME, "--certificate-arn", certificate])
    out = capsys.readouterr().out
    created = v2.get_domain_name(DomainName=NAME)["DomainNameConfigurations"][0]
    assert created["EndpointType"] == "REGIONAL" and created["CertificateArn"] == certificate
    mappings = v2.get_api_mappings(DomainName=NAME)["Items"]
    assert [(m["ApiId"], m["Stage"]) for m in mappings] == [(api, "prod")]
    target = _target(out)
    assert target.startswith("d-") and target.endswith(f".execute-api.{REGION}.amazonaws.com")
    assert f"{NAME} CNAME {target}" in out and f"VOJ_ALLOWED_HOSTS={NAME}" in out

    # Again: nothing changes, the same target.
    cli.main(["domain", "prod", "--name", NAME, "--certificate-arn", certificate])
    again = capsys.readouterr().out
    assert "exists" in again and "in place" in again and _target(again) == target
    assert len(v2.get_api_mappings(DomainName=NAME)["Items"]) == 1

    assert not any(r["service"] == "route53" for r in recorded)
    assert uncovered(recorded) == []


def _target(out: str) -> str:
    return out.split("Next: point ", 1)[1].split(" at ", 1)[1].split()[0]


def test_the_certificate_must_be_the_stages_region(own_moto):
    edge = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    with pytest.raises(SystemExit, match="us-east-1 is for edge"):
        domain.domain("prod", NAME, edge)
    with pytest.raises(SystemExit, match="not an ACM certificate"):
        domain.domain("prod", NAME, "arn:aws:iam::123456789012:server-certificate/x")


def test_a_domain_mapped_elsewhere_is_left_alone(own_moto, monkeypatch):
    v2 = moto_client(own_moto, "apigatewayv2")
    api = v2.create_api(Name="voj-prod", ProtocolType="HTTP")["ApiId"]
    other = v2.create_api(Name="other", ProtocolType="HTTP")["ApiId"]
    certificate = f"arn:aws:acm:{REGION}:123456789012:certificate/abc"
    v2.create_domain_name(
        DomainName=NAME,
        DomainNameConfigurations=[{"CertificateArn": certificate, "EndpointType": "REGIONAL"}],
    )
    v2.create_api_mapping(DomainName=NAME, ApiId=other, Stage="live", ApiMappingKey="")
    shim_regional_target(monkeypatch)
    with pytest.raises(SystemExit, match=f"mapped to API {other} stage live, not this stage's"):
        domain.domain("prod", NAME, certificate)
    assert api not in {m["ApiId"] for m in v2.get_api_mappings(DomainName=NAME)["Items"]}
