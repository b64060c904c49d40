"""The HTTP API Zappa makes for a stage (apigateway_version v2): its id, for the commands that
act on it (throttle, domain) or watch it (the monitoring stack's ApiId); and its custom domain,
which `zappa certify` cannot make (it makes REST API domains only).

    python -m deploy domain STAGE --domain api.example.com --certificate-arn ARN
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from deploy import shared
from deploy.shared import say


def api_name(stage: str) -> str:
    """Zappa names the API after the function, {project_name}-{stage}
    (zappa/core.py create_api_gateway_v2_routes); its stage is named after the Zappa stage."""
    return f"voj-{stage}"


def find_api_id(stage: str) -> str | None:
    """The id of the stage's HTTP API, or None before the first `zappa deploy`."""
    apigateway = shared.client("apigatewayv2")
    name = api_name(stage)
    found: list[str] = []
    kwargs: dict[str, str] = {}
    while True:
        page = apigateway.get_apis(**kwargs)
        found += [
            api["ApiId"]
            for api in page["Items"]
            if api["Name"] == name and api["ProtocolType"] == "HTTP"
        ]
        if not page.get("NextToken"):
            break
        kwargs = {"NextToken": page["NextToken"]}
    if len(found) > 1:
        raise SystemExit(f"{len(found)} HTTP APIs are named {name}: delete the stray ones")
    return found[0] if found else None


def api_id(stage: str) -> str:
    """The id of the stage's HTTP API; stops with the fix if there is none."""
    found = find_api_id(stage)
    if found is None:
        raise SystemExit(
            f"no HTTP API named {api_name(stage)}: deploy first (zappa deploy {stage})"
        )
    return found


def domain_map(stage: str, domain: str, certificate_arn: str) -> dict[str, str]:
    """A regional custom domain (the certificate in the stage's region) mapped, without a key,
    to the stage of its HTTP API; returns where DNS must point. Idempotent: a mapping to an
    older API of the stage (deployed anew) moves to the current one."""
    apigateway = shared.client("apigatewayv2")
    target_api = api_id(stage)
    try:
        found = apigateway.get_domain_name(DomainName=domain)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NotFoundException":
            raise
        found = apigateway.create_domain_name(
            DomainName=domain,
            DomainNameConfigurations=[
                {
                    "CertificateArn": certificate_arn,
                    "EndpointType": "REGIONAL",
                    "SecurityPolicy": "TLS_1_2",
                }
            ],
        )
    mappings = apigateway.get_api_mappings(DomainName=domain)["Items"]
    root = [m for m in mappings if not m.get("ApiMappingKey")]
    for mapping in root:
        if (mapping["ApiId"], mapping["Stage"]) != (target_api, stage):
            apigateway.delete_api_mapping(DomainName=domain, ApiMappingId=mapping["ApiMappingId"])
    if not any((m["ApiId"], m["Stage"]) == (target_api, stage) for m in root):
        apigateway.create_api_mapping(DomainName=domain, ApiId=target_api, Stage=stage)
    config = found["DomainNameConfigurations"][0]
    dns = {
        "target": config.get("ApiGatewayDomainName", "?"),
        "hosted_zone": config.get("HostedZoneId", "?"),
    }
    say(
        f"{domain} -> HTTP API {target_api}, stage {stage}. DNS: {domain} CNAME {dns['target']} "
        f"(or a Route 53 alias A/AAAA record to it, hosted zone {dns['hosted_zone']})"
    )
    return dns
