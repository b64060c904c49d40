"""The one place AWS clients are built: region, endpoint, retries and timeouts."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

# Every AWS service the application calls while it runs. The Lambda package ships botocore with
# these service models only (deploy/package.py), so a client for any other service fails there:
# add the service here first (tests/voj/test_aws.py checks the code against this list).
RUNTIME_SERVICES = ("cloudfront", "dynamodb", "s3", "secretsmanager", "ssm")


def client_config(*, service: str, region: str, path_style: bool = False) -> Any:
    from botocore.config import Config

    s3_options: dict[str, Any] = {}
    if service == "s3":
        s3_options = {
            # Virtual-hosted, regional S3 URLs: the global endpoint answers a new bucket outside
            # us-east-1 with a 307 that a browser's CORS form POST cannot follow. A local
            # endpoint (the moto server of the prod-like mode) has no per-bucket host names.
            "s3": {"addressing_style": "path" if path_style else "virtual"},
            # Presigned POSTs and GETs signed with SigV4, the only version newer regions take.
            # Other services keep the signer their model names.
            "signature_version": "s3v4",
        }
    return Config(
        region_name=region,
        # Adaptive retries back off on throttling before a caller reports 503.
        retries={"mode": "adaptive", "total_max_attempts": 5},
        connect_timeout=3,
        read_timeout=10,
        **s3_options,
    )


@cache
def aws_session() -> Any:
    """One session per process: a new one reloads botocore's endpoint and model data (about
    75 ms here), while another client on a warm session costs a few. django-storages' S3
    storage uses it too (streaming/s3.py)."""
    import boto3

    return boto3.session.Session()


def service_endpoint_variable(service: str) -> str:
    """botocore's own per-service endpoint variable, e.g. AWS_ENDPOINT_URL_DYNAMODB."""
    from botocore.utils import CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES as service_ids

    return "AWS_ENDPOINT_URL_" + service_ids.get(service, service).replace("-", "_").upper()


def build_client(service: str, *, region: str, endpoint_url: str | None = None) -> Any:
    # botocore reads AWS_ENDPOINT_URL_<SERVICE> only when no endpoint is passed; it wins over
    # the project's one-for-all VOJ_AWS_ENDPOINT_URL, so the prod-like local mode can serve
    # DynamoDB from DynamoDB Local and everything else from moto.
    endpoint_url = os.environ.get(service_endpoint_variable(service)) or endpoint_url
    return aws_session().client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=client_config(service=service, region=region, path_style=bool(endpoint_url)),
    )


@cache
def aws_client(service: str) -> Any:
    from django.conf import settings

    return build_client(
        service, region=settings.VOJ_AWS_REGION, endpoint_url=settings.VOJ_AWS_ENDPOINT_URL
    )


def reset_clients() -> None:
    """Forget built clients (tests switch endpoints and mocks)."""
    aws_client.cache_clear()
    aws_session.cache_clear()
