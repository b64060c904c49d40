"""The stage's custom domain on its HTTP API: a regional domain name, mapped to the stage.

    python -m deploy domain STAGE --name api.example.com --certificate-arn ARN

`zappa certify` cannot do it: it creates an edge-optimised REST API domain and a base path
mapping (zappa/core.py create_domain_name, whatever `apigateway_version` says), and with
`route53_enabled` (its default) calls Route 53, which voj's deployer may not, and whose record
it cannot write for a zone it does not find. This command makes the regional domain (the ACM
certificate in the stage's own region), maps it to the API's stage, and prints the name to point
DNS at (the domain's ApiGatewayDomainName) and, for a Route 53 alias, its hosted zone. Run again,
it changes nothing and prints the same.
"""

from __future__ import annotations

from typing import Any

from deploy import live, shared
from deploy.shared import REGION, say


def http_api_id(stage: str) -> str:
    """The id of the HTTP API Zappa made for the stage's function (named after it)."""
    name = live.function_name(stage)
    apis = shared.client("apigatewayv2").get_apis(MaxResults="500")["Items"]
    found = [api["ApiId"] for api in apis if api["Name"] == name]
    if len(found) != 1:
        raise SystemExit(
            f"{len(found)} HTTP APIs named {name}: deploy first (`zappa deploy {stage} --zip ...`"
            ' with "apigateway_version": "v2")'
            if not found
            else f"{len(found)} HTTP APIs named {name}: remove the stray ones first"
        )
    return str(found[0])


def _certificate_region(certificate_arn: str) -> str:
    parts = certificate_arn.split(":")
    if len(parts) < 6 or parts[2] != "acm":
        raise SystemExit(f"not an ACM certificate ARN: {certificate_arn}")
    return parts[3]


def _domain(name: str, certificate_arn: str) -> dict[str, Any]:
    client = shared.client("apigatewayv2")
    try:
        found: dict[str, Any] = client.get_domain_name(DomainName=name)
        say(f"domain {name}: exists")
        return found
    except client.exceptions.NotFoundException:
        pass
    created: dict[str, Any] = client.create_domain_name(
        DomainName=name,
        DomainNameConfigurations=[
            {
                "CertificateArn": certificate_arn,
                "EndpointType": "REGIONAL",
                "SecurityPolicy": "TLS_1_2",
            }
        ],
    )
    say(f"domain {name}: created (regional, TLS 1.2)")
    return created


def _mapping(name: str, api_id: str, stage: str) -> None:
    client = shared.client("apigatewayv2")
    mappings = client.get_api_mappings(DomainName=name)["Items"]
    root = [m for m in mappings if m.get("ApiMappingKey", "") == ""]
    if root and (root[0]["ApiId"], root[0]["Stage"]) != (api_id, stage):
        raise SystemExit(
            f"{name} is mapped to API {root[0]['ApiId']} stage {root[0]['Stage']}, not this "
            f"stage's {api_id} {stage}: remove that mapping first"
        )
    if not root:
        client.create_api_mapping(DomainName=name, ApiId=api_id, Stage=stage, ApiMappingKey="")
        say(f"mapping {name}/ -> API {api_id} stage {stage}: created")
    else:
        say(f"mapping {name}/ -> API {api_id} stage {stage}: in place")


def domain(stage: str, name: str, certificate_arn: str) -> str:
    """Make ``name`` serve the stage's API; returns the DNS target."""
    if (region := _certificate_region(certificate_arn)) != REGION:
        raise SystemExit(
            f"the certificate is in {region}: a regional API domain needs one in {REGION} "
            "(us-east-1 is for edge-optimised domains and CloudFront)"
        )
    api_id = http_api_id(stage)
    configuration = _domain(name, certificate_arn)["DomainNameConfigurations"][0]
    _mapping(name, api_id, stage)
    target = configuration["ApiGatewayDomainName"]
    say(
        f"\nNext: point {name} at {target}\n"
        f"  a CNAME record: {name} CNAME {target}\n"
        f"  or a Route 53 alias (A/AAAA): target {target}, "
        f"hosted zone {configuration.get('HostedZoneId', '?')}\n"
        f"Then set VOJ_ALLOWED_HOSTS={name} and VOJ_CSRF_TRUSTED_ORIGINS=https://{name} in "
        "zappa_settings.json, `make package` and release (docs/deploy.md §9)."
    )
    return str(target)
