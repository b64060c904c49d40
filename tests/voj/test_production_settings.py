"""Production settings, loaded for real in a subprocess with secrets from a moto server."""

from __future__ import annotations

import os
import secrets as random
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.conftest import AWS_TEST_ENV
from tests.helpers import manage as run_manage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prod_env(moto_server) -> dict[str, str]:
    path = f"/voj/check-{random.token_hex(4)}/"
    ssm = boto3.client("ssm", endpoint_url=moto_server, **_creds())
    ssm.put_parameter(
        Name=path + "DJANGO_SECRET_KEY", Value=random.token_urlsafe(50), Type="SecureString"
    )
    ssm.put_parameter(
        Name=path + "JWT_SIGNING_KEY", Value=random.token_urlsafe(50), Type="SecureString"
    )
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VOJ_", "DJANGO_"))},
        **AWS_TEST_ENV,
        "VOJ_ENV": "production",
        "VOJ_SECRETS": path,
        "VOJ_AWS_ENDPOINT_URL": moto_server,
        "VOJ_ALLOWED_HOSTS": "api.voj.test",
        "VOJ_CORS_ORIGINS": "https://app.voj.test",
        "VOJ_STORAGE": "s3",
        "VOJ_DATA_BACKEND": "dynamodb",
    }


def _creds():
    return {
        "region_name": "ap-northeast-2",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


def run_django(env, script: str):
    """A Python snippet in a fresh process with the production settings."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**env, "DJANGO_SETTINGS_MODULE": "voj.settings"},
        timeout=60,
    )


def manage(env, *args):
    return run_manage(env, *args, check=False)  # these tests read the failures too


def test_check_deploy_is_clean(prod_env):
    result = manage(prod_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_settings_in_production(prod_env):
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'debug': s.DEBUG, 'docs': s.VOJ_API_DOCS, "
        "'hosts': s.ALLOWED_HOSTS, 'cors': s.CORS_ALLOWED_ORIGINS, "
        "'engine': s.DATABASES['default']['ENGINE'], 'hsts': s.SECURE_HSTS_SECONDS, "
        "'proxy': list(s.SECURE_PROXY_SSL_HEADER), "
        "'spectacular': 'drf_spectacular' in s.INSTALLED_APPS, "
        "'schema': s.REST_FRAMEWORK.get('DEFAULT_SCHEMA_CLASS')}))"
    )
    result = run_django(prod_env, script)
    assert result.returncode == 0, result.stderr
    import json

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "debug": False,
        "docs": False,
        "hosts": ["api.voj.test", ".execute-api.ap-northeast-2.amazonaws.com"],
        "cors": ["https://app.voj.test"],
        "engine": "voj.opsdb",
        "hsts": 31536000,
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        # No API docs in production, so drf-spectacular stays off the cold start.
        "spectacular": False,
        "schema": None,
    }
    assert prod_env["VOJ_SECRETS"] not in result.stderr  # nothing about secrets but names


def test_missing_secret_stops_start_with_its_name(prod_env, moto_server):
    env = {**prod_env, "VOJ_SECRETS": "/voj/empty-path/"}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is missing" in result.stderr


def test_no_secrets_source(prod_env):
    env = {k: v for k, v in prod_env.items() if k != "VOJ_SECRETS"}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "VOJ_SECRETS must be set" in result.stderr


def test_requests_in_production(prod_env):
    """No schema or docs; every request logged as one JSON line with the request's facts."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "print(c.get('/api/v1/schema', HTTP_HOST='api.voj.test', secure=True).status_code)\n"
        "print(c.get('/api/v1/docs', HTTP_HOST='api.voj.test', secure=True).status_code)\n"
        "print(c.get('/api/v1/health', HTTP_HOST='api.voj.test', secure=True,"
        " HTTP_X_REQUEST_ID='req-123').status_code)\n"
        "print(c.get('/api/v1/health', HTTP_HOST='evil.test', secure=True).status_code)\n"
    )
    result = run_django(prod_env, script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["404", "404", "200", "400"]
    import json

    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    health = next(line for line in lines if line.get("request_id") == "req-123")
    assert health["logger"] == "voj.requests"
    assert (health["method"], health["path"], health["status"]) == ("GET", "/api/v1/health", 200)
    assert health["user"] is None and health["latency_ms"] >= 0


def test_cdn_signs_with_the_named_key_slot(prod_env, moto_server):
    """A key rotation switches VOJ_CDN_KEY_ID and VOJ_CDN_PRIVATE_KEY_NAME in one update."""
    ssm = boto3.client("ssm", endpoint_url=moto_server, **_creds())
    for name in ("CLOUDFRONT_PRIVATE_KEY", "CLOUDFRONT_PRIVATE_KEY_NEXT"):
        ssm.put_parameter(
            Name=prod_env["VOJ_SECRETS"] + name, Value=f"pem of {name}", Type="SecureString"
        )
    cdn = {**prod_env, "VOJ_CDN_DOMAIN": "d111.cloudfront.net", "VOJ_CDN_KEY_ID": "K2"}
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.VOJ_CDN_PRIVATE_KEY)"
    )
    result = run_django(cdn, script)
    assert result.stdout.strip().splitlines()[-1] == "pem of CLOUDFRONT_PRIVATE_KEY", result.stderr
    result = run_django({**cdn, "VOJ_CDN_PRIVATE_KEY_NAME": "CLOUDFRONT_PRIVATE_KEY_NEXT"}, script)
    assert result.stdout.strip().splitlines()[-1] == "pem of CLOUDFRONT_PRIVATE_KEY_NEXT"
    result = run_django({**cdn, "VOJ_CDN_PRIVATE_KEY_NAME": "JWT_SIGNING_KEY"}, script)
    assert result.returncode != 0
    assert "VOJ_CDN_PRIVATE_KEY_NAME must be" in result.stderr


def test_migrate_names_an_unusable_bucket(prod_env, tmp_path):
    """The operator database lives in the bucket: migrate ends with one clear line that names
    the cause, not a traceback or a retry error."""
    env = {
        **prod_env,
        "VOJ_MEDIA_BUCKET": f"voj-missing-{random.token_hex(4)}",
        "VOJ_OPSDB_PATH": str(tmp_path / "ops.sqlite3"),
    }
    result = manage(env, "migrate", "--noinput", "-v", "0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "retries" not in result.stderr
    assert "CommandError: cannot publish the operator database s3://voj-missing-" in result.stderr
    assert "the bucket does not exist (NoSuchBucket)" in result.stderr


@pytest.mark.postgres
def test_database_url_from_the_secrets(prod_env, moto_server, postgres_url):
    """A URL with a password is a secret: production reads DATABASE_URL from VOJ_SECRETS, and
    then uses PostgreSQL instead of the S3 file, with its connections kept and health-checked."""
    path = f"/voj/pg-{random.token_hex(4)}/"
    ssm = boto3.client("ssm", endpoint_url=moto_server, **_creds())
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"):
        ssm.put_parameter(Name=path + name, Value=random.token_urlsafe(50), Type="SecureString")
    ssm.put_parameter(Name=path + "DATABASE_URL", Value=postgres_url, Type="SecureString")
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "from django.db import connection; connection.ensure_connection(); "
        "d = s.DATABASES['default']; "
        "print(json.dumps({'engine': d['ENGINE'], 'vendor': connection.vendor, "
        "'max_age': d['CONN_MAX_AGE'], 'health_checks': d['CONN_HEALTH_CHECKS'], "
        "'opsdb_middleware': 'voj.opsdb.middleware.OperatorDatabaseMiddleware' in s.MIDDLEWARE}))"
    )
    result = run_django({**prod_env, "VOJ_SECRETS": path}, script)
    assert result.returncode == 0, result.stderr
    import json

    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "engine": "django.db.backends.postgresql",
        "vendor": "postgresql",
        "max_age": 600,
        "health_checks": True,
        "opsdb_middleware": False,
    }
    password = postgres_url.split(":")[2].split("@")[0]
    assert password not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"])
@pytest.mark.parametrize(
    "value", ["x", "django-insecure-" + "k" * 60, "ab" * 40, "0123456789" * 4 + "abcdefghi"]
)
def test_a_weak_signing_key_stops_the_start(prod_env, moto_server, name, value):
    """An HS256 key of "x" makes every token, operators' included, guessable offline."""
    path = f"/voj/weak-{random.token_hex(4)}/"
    ssm = boto3.client("ssm", endpoint_url=moto_server, **_creds())
    for each in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"):
        strong = random.token_urlsafe(50)
        ssm.put_parameter(Name=path + each, Value=value if each == name else strong, Type="String")
    result = manage({**prod_env, "VOJ_SECRETS": path}, "check")
    assert result.returncode != 0
    assert f"{name} is a default or too weak" in result.stderr
    if len(value) > 1:  # "x" is in any text
        assert value not in result.stderr  # the refusal names the key, never its value
