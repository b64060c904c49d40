"""Which `zappa rollback STAGE -n N` reaches the code before the code API Gateway serves.

    python -m deploy rollback-count STAGE

Zappa's rollback counts published versions, newest first, and a release publishes one version
(dev) or two (prod: SnapStart's second publish, when Lambda makes it), a rollback one: counting by
hand is where a rollback goes wrong (docs/runbook.md). This reads the versions as Zappa does and
names the `-n` of the newest one whose code differs from the served code. It changes nothing.
"""

from __future__ import annotations

from typing import Any

from deploy import shared
from deploy.configure import stage_settings
from deploy.shared import say

SNAPSTART_ALIAS = "snapstart"  # zappa/core.py SNAPSTART_LAMBDA_ALIAS: what API Gateway invokes


def served_qualifier(stage: str, lambda_client: Any) -> str:
    """The version API Gateway invokes: the `snapstart` alias's under SnapStart, else $LATEST."""
    if stage_settings(stage).get("snap_start", "None") == "None":
        return "$LATEST"
    name = f"voj-{stage}"
    return lambda_client.get_alias(FunctionName=name, Name=SNAPSTART_ALIAS)["FunctionVersion"]


def rollback_count(stage: str) -> int:
    """Print the retained versions, newest first, and the rollback to the code before; return
    its ``-n``."""
    lambda_client = shared.client("lambda")
    name = f"voj-{stage}"
    page = lambda_client.list_versions_by_function(FunctionName=name)
    if page.get("NextMarker"):
        raise SystemExit(
            f"{name} has more versions than Zappa's rollback reads (its first page, 50): "
            "lower num_retained_versions and release, or roll back by hand"
        )
    published = [v for v in page["Versions"] if v["Version"] != "$LATEST"]
    newest_first = sorted(published, key=lambda v: int(v["Version"]), reverse=True)
    qualifier = served_qualifier(stage, lambda_client)
    served = lambda_client.get_function_configuration(FunctionName=name, Qualifier=qualifier)
    found = None
    for n, version in enumerate(newest_first):
        same = version["CodeSha256"] == served["CodeSha256"]
        if found is None and not same:
            found = n
        say(
            f"  -n {n}: version {version['Version']} {version['CodeSha256']}" + (" (served)" * same)
        )
    if found is None:
        raise SystemExit(f"no retained version of {name} holds other code than the served one")
    say(
        f"zappa rollback {stage} -n {found}   # version {newest_first[found]['Version']}, "
        f"the newest code other than what {qualifier} serves"
    )
    return found
