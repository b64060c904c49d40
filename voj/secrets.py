"""Secrets from SSM Parameter Store or Secrets Manager, fetched once per process (cold start).

``VOJ_SECRETS`` names the source:
- an SSM path such as ``/voj/prod/`` (or ``ssm:/voj/prod/``): one SecureString parameter per
  secret, named for it (``/voj/prod/DJANGO_SECRET_KEY``);
- ``secretsmanager:NAME`` or a Secrets Manager ARN: one secret holding a JSON object.

Values are never logged; errors name the missing key and the source, nothing more.
"""

from __future__ import annotations

import json
import logging
from functools import cache

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured

from voj.aws import build_client

logger = logging.getLogger("voj.secrets")

DJANGO_SECRET_KEY = "DJANGO_SECRET_KEY"
JWT_SIGNING_KEY = "JWT_SIGNING_KEY"
CLOUDFRONT_PRIVATE_KEY = "CLOUDFRONT_PRIVATE_KEY"


def _source(spec: str) -> tuple[str, str]:
    spec = spec.strip()
    if spec.startswith("ssm:"):
        return "ssm", spec.removeprefix("ssm:")
    if spec.startswith("secretsmanager:"):
        return "secretsmanager", spec.removeprefix("secretsmanager:")
    if spec.startswith("arn:aws:secretsmanager:"):
        return "secretsmanager", spec
    if spec.startswith("/"):
        return "ssm", spec
    raise ImproperlyConfigured(
        "VOJ_SECRETS must be an SSM path (/voj/prod/), ssm:PATH, secretsmanager:NAME or a "
        "Secrets Manager ARN"
    )


@cache
def load_secrets(spec: str, *, region: str, endpoint_url: str | None = None) -> dict[str, str]:
    kind, name = _source(spec)
    try:
        if kind == "ssm":
            path = name if name.endswith("/") else name + "/"
            client = build_client("ssm", region=region, endpoint_url=endpoint_url)
            values: dict[str, str] = {}
            for page in client.get_paginator("get_parameters_by_path").paginate(
                Path=path, WithDecryption=True, Recursive=False
            ):
                for parameter in page["Parameters"]:
                    values[parameter["Name"].removeprefix(path)] = parameter["Value"]
        else:
            client = build_client("secretsmanager", region=region, endpoint_url=endpoint_url)
            raw = client.get_secret_value(SecretId=name)["SecretString"]
            values = json.loads(raw)
            if not isinstance(values, dict):
                raise ImproperlyConfigured(f"secret {name} must hold a JSON object")
    except (ClientError, BotoCoreError) as error:
        raise ImproperlyConfigured(f"cannot read secrets from {spec}: {error}") from None
    except ValueError:
        raise ImproperlyConfigured(f"secret {name} is not valid JSON") from None
    logger.info("secrets loaded from %s: %s", spec, ", ".join(sorted(values)))
    return {key: str(value) for key, value in values.items()}


def secret(values: dict[str, str], key: str, *, spec: str) -> str:
    value = values.get(key, "").strip()
    if not value:
        raise ImproperlyConfigured(f"secret {key} is missing from VOJ_SECRETS ({spec})")
    return value


def strong_secret(values: dict[str, str], key: str, *, spec: str) -> str:
    """The secret ``key``, refused when it is guessable. Both keys sign what voj trusts (the
    console's sessions, every HS256 token, operators' included), so both are held to Django's
    own rule for SECRET_KEY (check W009): 50 characters or more, 5 distinct or more, no default."""
    value = secret(values, key, spec=spec)
    if value.startswith("django-insecure") or len(value) < 50 or len(set(value)) < 5:
        raise ImproperlyConfigured(
            f"{key} is a default or too weak (50 characters or more, 5 distinct or more): "
            "generate one with deploy's `secrets put`"
        )
    return value
