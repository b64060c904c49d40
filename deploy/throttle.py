"""API Gateway stage throttling, which Zappa has no setting for.

    python -m deploy throttle STAGE [--rate 100] [--burst 200]

Runs after `zappa deploy` / `zappa update` (the release does it); idempotent.
"""

from __future__ import annotations

from typing import Any

from deploy import http_api, shared
from deploy.shared import say

# Steady requests per second and burst for the whole stage. Far above what the service needs,
# far below the account's shared 10,000 rps: a flood is refused at the gateway with 429 before
# it costs a Lambda invocation, and other APIs in the account keep their share.
THROTTLE_RATE = 100.0
THROTTLE_BURST = 200


def stage_throttle(
    stage: str, *, rate: float = THROTTLE_RATE, burst: int = THROTTLE_BURST
) -> dict[str, Any]:
    """Throttle every route of the stage's HTTP API: the stage's default route settings (Zappa
    names the stage after the Zappa stage). The other default route settings are kept."""
    apigateway = shared.client("apigatewayv2")
    api_id = http_api.api_id(stage)
    current = apigateway.get_stage(ApiId=api_id, StageName=stage).get("DefaultRouteSettings", {})
    updated = apigateway.update_stage(
        ApiId=api_id,
        StageName=stage,
        DefaultRouteSettings={
            **current,
            "ThrottlingRateLimit": float(rate),
            "ThrottlingBurstLimit": int(burst),
        },
    )
    settings = updated["DefaultRouteSettings"]
    say(
        f"HTTP API voj-{stage} ({api_id}) stage {stage}: {settings['ThrottlingRateLimit']} "
        f"requests/s, burst {settings['ThrottlingBurstLimit']}"
    )
    return settings
