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

from deploy import http_api, shared
from deploy.shared import REGION, say


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
    """The root mapping to the stage's API. A mapping to an older API of the same stage (the
    stage deployed anew: `zappa undeploy`, `zappa deploy`) moves to the current one; a mapping
    to anything else is somebody else's and is left alone."""
    client = shared.client("apigatewayv2")
    mappings = client.get_api_mappings(DomainName=name)["Items"]
    root = [m for m in mappings if m.get("ApiMappingKey", "") == ""]
    if root and root[0]["Stage"] != stage:
        raise SystemExit(
            f"{name} is mapped to API {root[0]['ApiId']} stage {root[0]['Stage']}, not this "
            f"stage's {api_id} {stage}: remove that mapping first"
        )
    if root and root[0]["ApiId"] == api_id:
        say(f"mapping {name}/ -> API {api_id} stage {stage}: in place")
        return
    if root:
        client.delete_api_mapping(DomainName=name, ApiMappingId=root[0]["ApiMappingId"])
        say(f"mapping {name}/ -> API {root[0]['ApiId']} (the stage's older API): removed")
    client.create_api_mapping(DomainName=name, ApiId=api_id, Stage=stage, ApiMappingKey="")
    say(f"mapping {name}/ -> API {api_id} stage {stage}: created")


def domain(stage: str, name: str, certificate_arn: str) -> str:
    """Make ``name`` serve the stage's API; returns the DNS target."""
    if (region := _certificate_region(certificate_arn)) != REGION:
        raise SystemExit(
            f"the certificate is in {region}: a regional API domain needs one in {REGION} "
            "(us-east-1 is for edge-optimised domains and CloudFront)"
        )
    api_id = http_api.api_id(stage)
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
