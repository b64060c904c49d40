"""What every deploy command shares: where the repository is, the stages and their region, the
AWS clients and the operator's output. It imports no other deploy module, so the commands build
on it and it never on them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from voj.aws import build_client

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
REGION = os.environ.get("VOJ_AWS_REGION", "ap-northeast-2")
STAGES = ("dev", "prod")


def client(service: str, region: str = REGION) -> Any:
    """A boto3 client for the stage's account; VOJ_AWS_ENDPOINT_URL points it at a moto server
    for the tests. Commands call it as ``shared.client`` so that the tests' IAM recorder, which
    replaces this one attribute, sees every request."""
    return build_client(service, region=region, endpoint_url=os.environ.get("VOJ_AWS_ENDPOINT_URL"))


def say(message: str) -> None:
    """One line for the operator, at once (a long step's progress is not held in a buffer)."""
    print(message, flush=True)
