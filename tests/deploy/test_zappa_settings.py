"""zappa_settings.json: the choices docs/deploy.md explains, and no secret in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = json.loads((ROOT / "zappa_settings.json").read_text())


def stage(name: str) -> dict:
    """A stage as Zappa reads it: `extends` copies the other stage, then overrides."""
    own = SETTINGS[name]
    return {**stage(own["extends"]), **own} if "extends" in own else own


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_stage(name):
    settings = stage(name)
    assert settings["django_settings"] == "voj.settings"
    assert settings["aws_region"] == "ap-northeast-2"
    assert settings["runtime"] == "python3.12"
    assert settings["manage_roles"] is False
    assert settings["role_name"] == f"voj-{name}-lambda"
    # Rollback needs old versions, and `-n` must stay below this (it counts $LATEST).
    assert settings["num_retained_versions"] == 10
    assert settings["slim_handler"] is False
    assert settings["use_precompiled_packages"] is False
    assert settings["binary_support"] is True
    assert settings["cors"] is False  # django-cors-headers answers CORS
    assert settings["debug"] is False  # Zappa's defaults are true and DEBUG
    assert settings["log_level"] in {"INFO", "WARNING"}
    # Zappa's check after deploy and update: 503 unless the tables and the bucket answer.
    assert settings["touch_path"] == "/api/v1/health/detailed"
    env = settings["environment_variables"]
    assert env["VOJ_ENV"] == "production"
    assert env["VOJ_SECRETS"] == f"/voj/{name}/"
    assert env["VOJ_MEDIA_BUCKET"] == f"voj-audiobooks-{name}"
    # Names of resources only: the values of secrets live in SSM.
    for key in env:
        assert not any(word in key for word in ("SECRET_KEY", "PASSWORD", "PRIVATE", "TOKEN"))


def test_prod_is_kept_warm():
    assert stage("prod")["keep_warm"] is True
    assert stage("dev")["keep_warm"] is False


def test_package_ships_the_sdk_and_not_zappas_cli():
    excluded = set(stage("prod")["exclude"])
    assert not excluded & {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"}
    assert {"troposphere", "click", "tests", "*.md", "zappa_settings.json"} <= excluded
    # Patterns match a name at any depth: "docs" would take botocore.docs, which botocore imports.
    assert "docs" not in excluded
