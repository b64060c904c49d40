"""How AWS clients are configured, and the services the Lambda package carries models for."""

from __future__ import annotations

import re
from pathlib import Path

from voj.aws import RUNTIME_SERVICES, build_client, client_config, service_endpoint_variable

ROOT = Path(__file__).resolve().parents[2]
CLIENT_CALL = re.compile(r"""\b(?:aws_client|build_client)\(\s*["']([a-z0-9-]+)["']""")


def test_every_service_the_application_calls_ships_in_the_package():
    called = {
        service
        for package in ("voj", "books", "streaming")
        for path in (ROOT / package).rglob("*.py")
        for service in CLIENT_CALL.findall(path.read_text())
    }
    assert called, "the scan found no client calls: the pattern is stale"
    assert called <= set(RUNTIME_SERVICES), called - set(RUNTIME_SERVICES)


def test_s3_options_apply_to_s3_only():
    s3 = client_config(service="s3", region="ap-northeast-2")
    assert s3.signature_version == "s3v4"
    assert s3.s3 == {"addressing_style": "virtual"}
    assert client_config(service="s3", region="ap-northeast-2", path_style=True).s3 == {
        "addressing_style": "path"
    }
    for service in ("dynamodb", "ssm", "cloudfront"):
        config = client_config(service=service, region="ap-northeast-2")
        assert config.signature_version is None and config.s3 is None, service
        assert config.retries == {"mode": "adaptive", "total_max_attempts": 5}


def test_a_service_endpoint_wins_over_the_shorthand(monkeypatch):
    """AWS_ENDPOINT_URL_<SERVICE> (botocore's name) beats VOJ_AWS_ENDPOINT_URL for its service
    only: the prod-like mode serves DynamoDB from DynamoDB Local and the rest from moto."""
    assert service_endpoint_variable("dynamodb") == "AWS_ENDPOINT_URL_DYNAMODB"
    assert service_endpoint_variable("secretsmanager") == "AWS_ENDPOINT_URL_SECRETS_MANAGER"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8001")
    shorthand = "http://127.0.0.1:5005"
    dynamodb = build_client("dynamodb", region="ap-northeast-2", endpoint_url=shorthand)
    ssm = build_client("ssm", region="ap-northeast-2", endpoint_url=shorthand)
    assert dynamodb.meta.endpoint_url == "http://127.0.0.1:8001"
    assert ssm.meta.endpoint_url == shorthand
