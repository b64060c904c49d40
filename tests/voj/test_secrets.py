"""Secrets from SSM or Secrets Manager (moto): loaded once, clear errors that name the key."""

from __future__ import annotations

import json
import secrets as random

import pytest
from django.core.exceptions import ImproperlyConfigured

from voj.aws import aws_client
from voj.secrets import load_secrets, secret


@pytest.fixture(autouse=True)
def _fresh_cache():
    load_secrets.cache_clear()
    yield
    load_secrets.cache_clear()


def put_ssm(path: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        aws_client("ssm").put_parameter(Name=f"{path}{name}", Value=value, Type="SecureString")


def test_ssm_path(aws):
    key = random.token_urlsafe(50)
    put_ssm("/voj/test/", {"DJANGO_SECRET_KEY": key, "JWT_SIGNING_KEY": "jwt"})
    put_ssm("/voj/other/", {"DJANGO_SECRET_KEY": "not ours"})
    values = load_secrets("/voj/test/", region="ap-northeast-2")
    assert values == {"DJANGO_SECRET_KEY": key, "JWT_SIGNING_KEY": "jwt"}
    assert load_secrets("ssm:/voj/test", region="ap-northeast-2") == values


def test_loaded_once_per_process(aws):
    put_ssm("/voj/test/", {"DJANGO_SECRET_KEY": "one"})
    first = load_secrets("/voj/test/", region="ap-northeast-2")
    aws_client("ssm").put_parameter(
        Name="/voj/test/DJANGO_SECRET_KEY", Value="two", Type="SecureString", Overwrite=True
    )
    assert load_secrets("/voj/test/", region="ap-northeast-2") is first


def test_secrets_manager(aws):
    aws_client("secretsmanager").create_secret(
        Name="voj/test", SecretString=json.dumps({"DJANGO_SECRET_KEY": "k", "JWT_SIGNING_KEY": "j"})
    )
    values = load_secrets("secretsmanager:voj/test", region="ap-northeast-2")
    assert values["JWT_SIGNING_KEY"] == "j"


def test_missing_key_is_named(aws):
    put_ssm("/voj/test/", {"DJANGO_SECRET_KEY": "k"})
    values = load_secrets("/voj/test/", region="ap-northeast-2")
    with pytest.raises(ImproperlyConfigured, match="JWT_SIGNING_KEY is missing"):
        secret(values, "JWT_SIGNING_KEY", spec="/voj/test/")


def test_missing_secret_and_bad_spec(aws):
    with pytest.raises(ImproperlyConfigured, match="cannot read secrets"):
        load_secrets("secretsmanager:nope", region="ap-northeast-2")
    with pytest.raises(ImproperlyConfigured, match="VOJ_SECRETS must be"):
        load_secrets("voj-prod", region="ap-northeast-2")
