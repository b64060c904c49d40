"""How AWS clients are configured, and the services the Lambda package carries models for."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest

from tests.conftest import AWS_TEST_ENV
from voj.aws import (
    RUNTIME_SERVICES,
    build_client,
    client_config,
    endpoint_url,
    is_aws_endpoint,
    reset_clients,
    service_endpoint_variable,
)

ROOT = Path(__file__).resolve().parents[2]
CLIENT_CALL = re.compile(r"""\b(?:aws_client|build_client)\(\s*["']([a-z0-9-]+)["']""")


def test_every_service_the_application_calls_ships_in_the_package():
    called = {
        service
        for package in ("voj", "books", "streaming", "listening")
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


@pytest.fixture
def clean_endpoints(monkeypatch):
    """No endpoint variable from the caller's environment leaks into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    reset_clients()
    yield monkeypatch
    reset_clients()


@pytest.mark.parametrize("service", RUNTIME_SERVICES)
def test_per_service_variable_is_the_one_botocore_reads(clean_endpoints, service):
    variable = service_endpoint_variable(service)
    clean_endpoints.setenv(variable, "http://elsewhere.test:9")
    # A plain boto3 client, configured by botocore alone, goes where the variable says.
    plain = boto3.session.Session().client(service, region_name="ap-northeast-2")
    assert plain.meta.endpoint_url == "http://elsewhere.test:9", variable
    assert (
        build_client(service, region="ap-northeast-2").meta.endpoint_url == plain.meta.endpoint_url
    )


def test_a_per_service_variable_wins_over_the_shorthand(clean_endpoints):
    clean_endpoints.setenv("AWS_ENDPOINT_URL_S3", "http://s3.local.test:8333")
    shorthand = "http://127.0.0.1:5005"
    s3 = build_client("s3", region="ap-northeast-2", endpoint_url=shorthand)
    dynamodb = build_client("dynamodb", region="ap-northeast-2", endpoint_url=shorthand)
    assert s3.meta.endpoint_url == "http://s3.local.test:8333"
    assert dynamodb.meta.endpoint_url == shorthand


def test_botocore_global_variable_and_the_shorthand(clean_endpoints):
    clean_endpoints.setenv("AWS_ENDPOINT_URL", "http://all.local.test:4566")
    assert endpoint_url("ssm") == "http://all.local.test:4566"
    # The project's own setting is the more specific choice for this application.
    assert endpoint_url("ssm", "http://127.0.0.1:5005") == "http://127.0.0.1:5005"
    clean_endpoints.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert endpoint_url("ssm") is None
    assert endpoint_url("ssm", "http://127.0.0.1:5005") == "http://127.0.0.1:5005"


@pytest.mark.parametrize(
    "endpoint",
    ["http://s3.local.test:8333", "http://localhost:8333", "http://127.0.0.1:8333"],
)
def test_any_endpoint_off_aws_is_path_style(clean_endpoints, endpoint):
    clean_endpoints.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    s3 = build_client("s3", region="ap-northeast-2")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "voj-media", "Key": "media/a.m4a"}, ExpiresIn=60
    )
    assert url.startswith(f"{endpoint}/voj-media/media/a.m4a?"), url
    post = s3.generate_presigned_post(Bucket="voj-media", Key="uploads/a")
    assert post["url"] == f"{endpoint}/voj-media"


@pytest.mark.parametrize(
    "endpoint",
    [None, "https://s3.ap-northeast-2.amazonaws.com"],
)
def test_on_aws_urls_are_regional_and_virtual_hosted(clean_endpoints, endpoint):
    if endpoint:
        clean_endpoints.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    s3 = build_client("s3", region="ap-northeast-2")
    post = s3.generate_presigned_post(Bucket="voj-media", Key="uploads/a")
    assert post["url"] == "https://voj-media.s3.ap-northeast-2.amazonaws.com/"


def test_is_aws_endpoint():
    assert is_aws_endpoint(None)
    assert is_aws_endpoint("https://s3.dualstack.ap-northeast-2.amazonaws.com")
    assert is_aws_endpoint("https://s3.cn-north-1.amazonaws.com.cn")
    assert not is_aws_endpoint("http://amazonaws.com.evil.test")
    assert not is_aws_endpoint("http://localhost:9000")
