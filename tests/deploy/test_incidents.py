"""The leaked JWT signing key (docs/runbook.md), drilled through the packaged handler on a moto
server of its own: whoever holds the key and one token of an account mints tokens for it that
live as long as they like; a container reads the key once, at its start, so it keeps accepting
them after the rotation; a container started after the rotation refuses every token signed with
the old key, forged or not, and signs in with the new one.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from deploy import stage_secrets
from deploy.configure import stage_settings
from deploy.local.lambda_harness import (
    api_gateway_event,
    invoke,
    moto_client,
    prod_on_moto,
    runtime_dir,
    unpack,
)
from deploy.local.processes import start_moto, stop
from tests.helpers import manage
from tests.servers import _clean_environment
from voj.secrets import load_secrets

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"
KEY = "/voj/prod/JWT_SIGNING_KEY"


@pytest.fixture
def stage(tmp_path) -> Iterator[tuple[str, dict[str, str], str]]:
    """prod on a moto server of this test's own (prod_on_moto writes the keys: no other test
    may rotate them meanwhile), migrated, with one operator: its URL, the handler's
    environment and the operator's password."""
    if not PACKAGE.exists():
        pytest.skip("run `make package` first")
    server, url = start_moto()
    try:
        env = {
            **prod_on_moto(url, ROOT / "deploy" / "stack.yaml"),
            "VOJ_OPSDB_KEY": f"system/test-{uuid.uuid4().hex}.sqlite3",
            "VOJ_OPSDB_PATH": str(tmp_path / "operator.sqlite3"),
        }
        password = secrets.token_urlsafe(16)
        tools = _clean_environment(
            **{
                **stage_settings("prod")["environment_variables"],
                **env,
                "VOJ_OPSDB_PATH": str(tmp_path / "tools.sqlite3"),
                "PASSWORD_FOR_TEST": password,
            }
        )
        manage(tools, "migrate", "--noinput", "-v", "0")
        manage(tools, "create_operator", "--username", "ops", "--password-env", "PASSWORD_FOR_TEST")
        yield url, env, password
    finally:
        stop(server)


def _login(password: str) -> dict:
    event = api_gateway_event(
        "/api/v1/auth/login", method="POST", headers={"Content-Type": "application/json"}
    )
    event["body"] = json.dumps({"username": "ops", "password": password})
    return event


def _me(token: str) -> dict:
    return api_gateway_event("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_leaked_signing_key_ends_with_rotation_and_new_containers(stage, tmp_path, monkeypatch):
    url, env, password = stage
    task = unpack(PACKAGE, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    ssm = moto_client(url, "ssm")
    leaked = ssm.get_parameter(Name=KEY, WithDecryption=True)["Parameter"]["Value"]

    signed_in, _ = invoke(task, runtime, [_login(password)], env)
    assert signed_in["status"] == 200, signed_in
    token = json.loads(signed_in["body"])["access"]
    # The key and one token: a token of the same account valid for a year.
    forged = jwt.encode(
        {**_claims(token), "exp": int(time.time()) + 365 * 86400, "jti": uuid.uuid4().hex},
        leaked,
        algorithm="HS256",
    )
    accepted, _ = invoke(task, runtime, [_me(forged)], env)
    assert accepted["status"] == 200, accepted

    # A container reads the key once (voj/secrets.py): rotated in SSM, it still has the old one.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec, region = "/voj/prod/", "ap-northeast-2"
    load_secrets.cache_clear()
    assert load_secrets(spec, region=region, endpoint_url=url)["JWT_SIGNING_KEY"] == leaked
    stage_secrets.secrets_put("prod", rotate="JWT_SIGNING_KEY")
    assert ssm.get_parameter(Name=KEY, WithDecryption=True)["Parameter"]["Value"] != leaked
    assert load_secrets(spec, region=region, endpoint_url=url)["JWT_SIGNING_KEY"] == leaked
    load_secrets.cache_clear()  # what a new container does
    assert load_secrets(spec, region=region, endpoint_url=url)["JWT_SIGNING_KEY"] != leaked
    load_secrets.cache_clear()

    # A container started after the rotation (`python -m deploy recycle`): every old token goes.
    forged_again, honest, again, _ = invoke(
        task, runtime, [_me(forged), _me(token), _login(password)], env
    )
    assert forged_again["status"] == 401 and honest["status"] == 401
    assert again["status"] == 200, again
