"""API Gateway stage throttling, which Zappa has no setting for.

    python -m deploy throttle STAGE [--rate 100] [--burst 200]

Runs after `zappa deploy` / `zappa update` (the release does it); idempotent.
"""

from __future__ import annotations

from typing import Any

from deploy import shared
from deploy.shared import say

# Steady requests per second and burst for the whole stage. Far above what the service needs,
# far below the account's shared 10,000 rps: a flood is refused at the gateway with 429 before
# it costs a Lambda invocation, and other APIs in the account keep their share.
THROTTLE_RATE = 100.0
THROTTLE_BURST = 200


def stage_throttle(
    stage: str, *, rate: float = THROTTLE_RATE, burst: int = THROTTLE_BURST
) -> dict[str, Any]:
    """Apply stage-wide throttling to Zappa's REST API: the stage's method settings."""
    apigateway = shared.client("apigateway")
    name = f"voj-{stage}"  # Zappa names the API after the function: {project_name}-{stage}
    apis = [api for api in apigateway.get_rest_apis(limit=500)["items"] if api["name"] == name]
    if len(apis) != 1:
        raise SystemExit(f"expected one REST API named {name}, found {len(apis)}: deploy first")
    updated = apigateway.update_stage(
        restApiId=apis[0]["id"],
        stageName=stage,
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(float(rate))},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(int(burst))},
        ],
    )
    settings = updated["methodSettings"]["*/*"]
    say(
        f"API {name} stage {stage}: {settings['throttlingRateLimit']} requests/s, "
        f"burst {settings['throttlingBurstLimit']}"
    )
    return settings
