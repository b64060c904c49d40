"""The HTTP API Zappa makes for a stage (apigateway_version v2): its id, for the commands that
act on it (throttle, domain: deploy/throttle.py, deploy/domain.py) or watch it (the monitoring
stack's ApiId)."""

from __future__ import annotations

from deploy import shared


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
