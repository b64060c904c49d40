"""SnapStart's restore hooks (voj/snapstart.py): registered inside Lambda only; and restore as it
happens, one initialised process of the packaged handler forked into two restored environments
that each sign in, stream and report progress with their own random state, tokens and
credentials, on the clients the snapshot built."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import snapshot_restore_py

from deploy.bench import latency
from deploy.configure import stage_settings
from deploy.local.lambda_harness import (
    RUNTIME_PACKAGES,
    api_gateway_event,
    prod_on_moto,
    runtime_dir,
    unpack,
)
from deploy.local.restore_harness import restore
from deploy.package import runtime_provided_drop
from voj import snapstart

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"


def _access_key_id() -> str:
    """A made-up access key id of AWS's shape, new each run: which one a request was signed
    with tells the environments apart."""
    return "AKIA" + secrets.token_hex(8).upper()


@pytest.fixture
def registry(monkeypatch):
    """The runtime's hook lists and voj's registration, as they were, after the test."""
    before = list(snapshot_restore_py.get_before_snapshot())
    after = list(snapshot_restore_py.get_after_restore())
    monkeypatch.setattr(snapstart._Process, "registered", False)
    yield
    snapshot_restore_py.get_before_snapshot()[:] = before
    snapshot_restore_py.get_after_restore()[:] = after


def _registered() -> tuple[list, list]:
    return (
        [
            f
            for f, *_ in snapshot_restore_py.get_before_snapshot()
            if f is snapstart.before_snapshot
        ],
        [f for f, *_ in snapshot_restore_py.get_after_restore() if f is snapstart.after_restore],
    )


def test_hooks_register_inside_lambda_only(registry, monkeypatch):
    from django.apps import apps

    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    apps.get_app_config("voj").ready()
    assert snapstart.register() is False
    assert _registered() == ([], [])
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "voj-prod")
    apps.get_app_config("voj").ready()  # as Django's set-up runs it, whatever the settings
    assert snapstart.register() is True  # and once only
    assert _registered() == ([snapstart.before_snapshot], [snapstart.after_restore])


@pytest.fixture
def on_moto_server(moto_server, monkeypatch, settings):
    """The process's clients, on moto_server, signing with the key in AWS_ACCESS_KEY_ID."""
    from voj import aws as clients

    settings.VOJ_AWS_ENDPOINT_URL = moto_server
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secrets.token_urlsafe(20))
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clients.reset_clients()
    yield clients
    clients.reset_clients()


def _signed_with(client) -> list[str]:
    """The access key of each request ``client`` sends from now on, as AWS receives it."""
    keys: list[str] = []

    def seen(request, **_):
        keys.append(request.headers["Authorization"].decode().split("Credential=")[1][:20])

    client.meta.events.register("before-send", seen)
    return keys


def test_renewed_clients_sign_with_the_environments_credentials_on_a_new_connection(
    on_moto_server, monkeypatch, caplog
):
    """What a restore keeps and what it renews (voj/aws.py renew_clients): the same client
    objects, this environment's credentials, no pooled connection of the snapshot's. Fails if
    botocore stops handing every client the session's credentials, or closing a client's pools
    stops leaving it usable."""
    snapshot_key, restored_key = _access_key_id(), _access_key_id()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", snapshot_key)
    dynamodb, s3 = on_moto_server.aws_client("dynamodb"), on_moto_server.aws_client("s3")
    keys = _signed_with(dynamodb)
    caplog.set_level("DEBUG", logger="urllib3.connectionpool")
    dynamodb.list_tables()
    dynamodb.list_tables()
    s3.list_buckets()
    opened = [r for r in caplog.records if r.getMessage().startswith("Starting new HTTP")]
    assert len(opened) == 2  # one per client, reused by its second request
    assert keys == [snapshot_key, snapshot_key]

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", restored_key)  # the restored environment's
    caplog.clear()
    on_moto_server.renew_clients()
    assert on_moto_server.aws_client("dynamodb") is dynamodb
    dynamodb.list_tables()
    assert keys[2:] == [restored_key]
    opened = [r for r in caplog.records if r.getMessage().startswith("Starting new HTTP")]
    assert len(opened) == 1  # the snapshot's connection is not reused
    assert on_moto_server.aws_session().get_credentials().access_key == restored_key


def test_restored_operator_database_asks_s3_again(aws, tmp_path):
    import boto3

    from voj.opsdb.sync import OperatorDatabaseSync

    s3 = boto3.client("s3", region_name="ap-northeast-2")
    s3.create_bucket(
        Bucket="ops", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    s3.put_object(Bucket="ops", Key="db", Body=b"first")
    sync = OperatorDatabaseSync(client=s3, bucket="ops", key="db", path=tmp_path / "db")
    assert sync.refresh() is True
    s3.put_object(Bucket="ops", Key="db", Body=b"newer, published while the snapshot slept")
    assert sync.refresh() is False  # checked a moment ago, as far as the frozen clock knows
    fresh = boto3.client("s3", region_name="ap-northeast-2")
    sync.restored(fresh)
    assert sync.client is fresh
    assert sync.refresh() is True
    assert (tmp_path / "db").read_bytes().startswith(b"newer")
    sync.restored(fresh)
    assert sync.refresh() is False  # unchanged: not downloaded again


def test_secrets_rotated_since_the_snapshot_apply_after_restore(aws, settings):
    """A rollback restores a snapshot taken before a rotation: the keys read again win."""
    import boto3
    from rest_framework_simplejwt import state
    from rest_framework_simplejwt.settings import api_settings

    from voj.secrets import load_secrets

    ssm = boto3.client("ssm", region_name="ap-northeast-2")
    old, new = secrets.token_urlsafe(50), secrets.token_urlsafe(50)
    for name, value in (("DJANGO_SECRET_KEY", old), ("JWT_SIGNING_KEY", old)):
        ssm.put_parameter(Name=f"/voj/t/{name}", Value=value, Type="SecureString")
    settings.VOJ_SECRETS = "/voj/t/"
    settings.VOJ_AWS_ENDPOINT_URL = None
    backend = state.token_backend
    kept = (backend.signing_key, api_settings.SIGNING_KEY)
    load_secrets.cache_clear()
    try:
        load_secrets("/voj/t/", region=settings.VOJ_AWS_REGION, endpoint_url=None)  # the snapshot's
        assert snapstart.secrets_renewed() == []
        ssm.put_parameter(Name="/voj/t/JWT_SIGNING_KEY", Value=new, Overwrite=True)
        assert snapstart.secrets_renewed() == ["JWT_SIGNING_KEY"]
        assert settings.SIMPLE_JWT["SIGNING_KEY"] == new
        assert old == settings.SECRET_KEY  # unchanged
        assert backend.signing_key == new
        assert new == api_settings.SIGNING_KEY
        token = backend.encode({"sub": "1"})
        import jwt

        assert jwt.decode(token, new, algorithms=["HS256"]) == {"sub": "1"}
    finally:
        load_secrets.cache_clear()
        backend.signing_key = kept[0]
        for prepared in ("prepared_signing_key", "prepared_verifying_key"):
            backend.__dict__.pop(prepared, None)
        setattr(api_settings, "SIGNING_KEY", kept[1])


def test_the_runtime_provides_the_hook_registry_and_the_package_never_does(tmp_path):
    assert "snapshot_restore_py.py" in RUNTIME_PACKAGES
    (tmp_path / "snapshot_restore_py.py").write_text("")
    runtime_provided_drop(tmp_path)
    assert not (tmp_path / "snapshot_restore_py.py").exists()
    if PACKAGE.exists():
        assert "snapshot_restore_py.py" not in zipfile.ZipFile(PACKAGE).namelist()


def test_a_snapstart_stage_initialises_the_application_at_import():
    """Zappa's handler builds the Django application at import only with this variable set in
    the function's environment: without it the snapshot would hold no application and the
    before-snapshot hooks would never be registered."""
    for stage in ("dev", "prod"):
        config = stage_settings(stage)
        if config.get("snap_start", "None") != "None":
            variables = config.get("aws_environment_variables", {})
            assert variables.get("INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT") == "true", stage


@pytest.fixture
def package() -> Path:
    if not PACKAGE.exists():
        if os.environ.get("CI"):
            pytest.fail("CI builds the package first (make package)")
        pytest.skip("run `make package` first")
    return PACKAGE


def _payload(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_two_environments_restored_from_one_snapshot(package, moto_server, tmp_path):
    env = prod_on_moto(moto_server, ROOT / "deploy" / "stack.yaml")
    env["VOJ_OPSDB_KEY"] = f"system/test-{uuid.uuid4().hex}.sqlite3"
    env["VOJ_OPSDB_PATH"] = str(tmp_path / "operator.sqlite3")
    password = secrets.token_urlsafe(16)
    manage_env = {
        **os.environ,
        **stage_settings("prod")["environment_variables"],
        **env,
        "VOJ_OPSDB_PATH": str(tmp_path / "migrate.sqlite3"),
        "BENCH_PASSWORD": password,
    }
    latency.operator_token(manage_env)  # migrated, with the operator `bench`
    book = latency.bench_book(moto_server)
    login = api_gateway_event(
        "/api/v1/auth/login",
        method="POST",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"username": "bench", "password": password}),
    )
    stream = api_gateway_event(
        f"/api/v1/audio/{book.stream_chapter_id}/stream-url",
        headers={"Authorization": "Bearer {access}"},
    )
    # Each child reports a later position at a later time: both are real writes.
    progress = api_gateway_event(
        f"/api/v1/me/progress/{book.book_id}",
        method="PUT",
        headers={"Authorization": "Bearer {access}", "Content-Type": "application/json"},
        body=json.dumps(
            {
                "chapter_id": book.progress_chapter_id,
                "position_seconds": 10.0,
                "updated_at": "2026-01-01T00:00:0{child}+00:00",
                "device": "Pixel 8",
            }
        ).replace("10.0", "1{child}.0"),
    )
    task = unpack(package, tmp_path / "task")
    began = time.monotonic()
    # Each restored environment has credentials of its own, none of them the snapshot's.
    keys = [_access_key_id() for _ in range(2)]
    environments = [
        {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30)}
        for key in keys
    ]
    result = restore(
        task,
        runtime_dir(tmp_path / "runtime"),
        [login, stream, progress],
        env,
        environments=environments,
    )
    assert time.monotonic() - began < 60
    first, second = result["children"]
    tokens = []
    for key, child in zip(keys, (first, second), strict=True):
        signed_in, streamed, reported = child["answers"]
        assert [a["status"] for a in child["answers"]] == [200, 200, 200], child["answers"]
        url = json.loads(streamed["body"])["url"]
        assert url.startswith(moto_server)
        assert f"X-Amz-Credential={key}" in url  # presigned with this environment's key
        assert json.loads(reported["body"])["applied"] is True
        tokens.append(_payload(json.loads(signed_in["body"])["access"]))
        # The snapshot's clients, each signing with this environment's credentials only.
        assert child["parents_clients"] == sorted(
            ("dynamodb", "s3", "catalogue", "listening", "storage", "security")
        )
        assert child["signed_with"] == [key]
    assert first["pid"] != second["pid"]
    # The snapshot's random state would give both what the parent draws next; each drew its own.
    assert len({first["random"], second["random"], result["random"]}) == 3
    assert tokens[0]["jti"] != tokens[1]["jti"]


def test_priming_builds_the_operations_and_sends_nothing(on_moto_server, monkeypatch, caplog):
    """Before the snapshot each operation the requests call is built, answered in the process."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", _access_key_id())
    dynamodb = on_moto_server.aws_client("dynamodb")
    signed = _signed_with(dynamodb)
    caplog.set_level("DEBUG", logger="urllib3.connectionpool")
    caplog.set_level("WARNING", logger="voj.aws")
    snapstart._clients_primed()
    assert [r.getMessage() for r in caplog.records] == []  # no connection, nothing failed
    assert len(signed) > len(snapstart.PRIMED_OPERATIONS)  # every operation, on each table
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        dynamodb.get_item(TableName="prime", Key={"pk": {"S": "x"}})  # answered by AWS again
