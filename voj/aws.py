"""The one place AWS clients are built: region, endpoint, retries and timeouts."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings


def client_config() -> Any:
    from botocore.config import Config

    return Config(
        region_name=settings.VOJ_AWS_REGION,
        # Adaptive retries back off on throttling before the repository reports 503.
        retries={"mode": "adaptive", "max_attempts": 5},
        connect_timeout=3,
        read_timeout=10,
        s3={"addressing_style": "virtual"},
        signature_version="s3v4",
    )


@cache
def aws_client(service: str) -> Any:
    import boto3

    session = boto3.session.Session()
    return session.client(
        service,
        region_name=settings.VOJ_AWS_REGION,
        endpoint_url=settings.VOJ_AWS_ENDPOINT_URL,
        config=client_config(),
    )


def reset_clients() -> None:
    """Forget built clients (tests switch endpoints and mocks)."""
    aws_client.cache_clear()
