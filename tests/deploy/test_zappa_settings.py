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
    assert settings["apigateway_version"] == "v2"  # the HTTP API: payload format 2.0
    assert settings["manage_roles"] is False
    assert settings["role_name"] == f"voj-{name}-lambda"
    # Rollback needs old versions; Zappa's rollback reads only the first page (50) of them.
    assert settings["num_retained_versions"] == {"dev": 10, "prod": 4}[name]
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


def test_prod_starts_from_snapshots_and_is_not_kept_warm():
    """SnapStart on prod (API Gateway invokes Zappa's `snapstart` alias); keep-warm has nothing
    left to do (docs/deploy.md), on either stage."""
    assert stage("prod")["snap_start"] == "PublishedVersions"
    assert stage("dev").get("snap_start", "None") == "None"
    for name in ("dev", "prod"):
        assert stage(name)["keep_warm"] is False
        assert "keep_warm_expression" not in stage(name)


def zappa_updates(releases: int, retained: int, *, snap_start: bool) -> list[int]:
    """The release each published version holds, newest first, after `zappa deploy` and
    ``releases - 1`` updates, as zappa/core.py 0.63 publishes and prunes: an update publishes
    its code, prunes to the newest ``retained``, then (SnapStart) publishes once more to capture
    the configuration, which the `snapstart` alias takes."""
    versions = [1]
    for release in range(2, releases + 1):
        versions = [release, *versions][:retained]
        if snap_start:
            versions = [release, *versions]
    return versions


def test_rollback_arithmetic_of_docs_runbook():
    prod, dev = stage("prod")["num_retained_versions"], stage("dev")["num_retained_versions"]
    for releases in range(2, 30):
        newest = zappa_updates(releases, prod, snap_start=True)
        # `zappa rollback prod -n 2` reaches the release before, `-n 4` the one before that.
        # (The first release, `zappa deploy`, published one version only.)
        assert newest[:3] == [releases, releases, releases - 1]
        if releases > 3:
            assert newest[3:5] == [releases - 1, releases - 2]
        assert len(newest) <= prod + 1 < 50  # with $LATEST, all on Zappa's first page
        # dev publishes once per update: `-n 1` is the release before, nine are kept.
        assert zappa_updates(releases, dev, snap_start=False)[:2] == [releases, releases - 1]


def test_package_ships_the_sdk_and_not_zappas_cli():
    excluded = set(stage("prod")["exclude"])
    assert not excluded & {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"}
    assert {"troposphere", "click", "tests", "*.md", "zappa_settings.json"} <= excluded
    # Patterns match a name at any depth: "docs" would take botocore.docs, which botocore imports.
    assert "docs" not in excluded
