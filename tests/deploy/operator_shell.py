"""A deploy operator's shell in a test: the `python -m deploy` tools pointed at a moto server of
the module's own, a zappa_settings.json of the test's own, every AWS request recorded for the
deployer policy, and moto's CloudFormation and DynamoDB gaps shimmed (cloudformation_gaps.py,
dynamodb_gaps.py)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from deploy import configure, keys
from tests.deploy import cloudformation_gaps, dynamodb_gaps
from tests.deploy.iam import record_operations

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def own_moto() -> Iterator[str]:
    """A moto server of this module's own: these tests create and delete the stage's stacks,
    which the session's server holds for other tests."""
    from deploy.local.processes import start_moto, stop

    server, url = start_moto()
    try:
        yield url
    finally:
        stop(server)


@pytest.fixture
def operator_shell(own_moto, monkeypatch, tmp_path):
    """An empty account on the moto server, the deploy tools pointed at it, a copy of
    zappa_settings.json to configure, and every request the tools make recorded."""
    requests.post(f"{own_moto}/moto-api/reset", timeout=10).raise_for_status()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "moto",
        "AWS_SECRET_ACCESS_KEY": "moto",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "VOJ_AWS_ENDPOINT_URL": own_moto,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(keys, "KEYS", tmp_path / "keys")
    settings_file = tmp_path / "zappa_settings.json"
    shutil.copy(ROOT / "zappa_settings.json", settings_file)
    monkeypatch.setattr(configure, "SETTINGS_FILE", settings_file)
    monkeypatch.setattr(
        "deploy.cli.configure",
        lambda stage, without_edge=False: configure.configure(
            stage, settings_file, without_edge=without_edge
        ),
    )
    records = record_operations(monkeypatch)
    return {
        "moto": own_moto,
        "settings": settings_file,
        "records": records,
        "gaps": cloudformation_gaps.install(monkeypatch),
        "dynamodb_gaps": dynamodb_gaps.install(monkeypatch),
    }


def environment(settings_file: Path, stage: str = "prod") -> dict[str, str]:
    return json.loads(settings_file.read_text())[stage]["environment_variables"]
