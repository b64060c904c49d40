"""The built Lambda package, called through Zappa's handler in a fresh process; and the
package's trims and patches, against the pinned botocore and simplejwt."""

from __future__ import annotations

import itertools
import json
import os
import uuid
import zipfile
from importlib.metadata import version
from pathlib import Path

import botocore
import pytest
import rest_framework_simplejwt
from botocore.exceptions import BotoCoreError
from botocore.regions import EndpointResolver

from deploy.bench import latency
from deploy.configure import stage_settings
from deploy.local.lambda_harness import api_gateway_event, invoke, prod_on_moto, runtime_dir, unpack
from deploy.package import (
    METADATA_KEPT,
    SDK_SERVICES,
    SOURCE_PATCHES,
    endpoint_prefix,
    endpoints_keep,
    source_patches_apply,
)
from tests.helpers import manage
from tests.servers import _clean_environment
from voj.aws import RUNTIME_SERVICES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "voj-prod.zip"


@pytest.fixture(scope="module")
def package() -> Path:
    if not PACKAGE.exists():
        if os.environ.get("CI"):
            pytest.fail("CI builds the package first (make package)")
        pytest.skip("run `make package` first")
    return PACKAGE


@pytest.fixture(scope="module")
def prod_env(moto_server) -> dict[str, str]:
    """The core stack and the secrets, in a moto server, as the handler's environment sees."""
    return prod_on_moto(moto_server, ROOT / "deploy" / "stack.yaml")


def _own_operator_database(prod_env: dict[str, str], work: Path) -> dict[str, str]:
    """An operator-database key of the caller's own in the shared moto bucket: what another
    test published there is never seen."""
    return {
        **prod_env,
        "VOJ_OPSDB_KEY": f"system/test-{uuid.uuid4().hex}.sqlite3",
        "VOJ_OPSDB_PATH": str(work / "operator.sqlite3"),
    }


@pytest.fixture(scope="module")
def migrated_env(prod_env, tmp_path_factory) -> dict[str, str]:
    """prod_env with an operator database of this module's own, migrated as the release's
    migrate step does it (manage.py with the stage's settings, from outside Lambda)."""
    env = _own_operator_database(prod_env, tmp_path_factory.mktemp("migrated"))
    migrate_path = tmp_path_factory.mktemp("migrate") / "operator.sqlite3"
    manage(
        _clean_environment(
            **{
                **stage_settings("prod")["environment_variables"],
                **env,
                "VOJ_OPSDB_PATH": str(migrate_path),
            }
        ),
        "migrate",
        "--noinput",
        "-v",
        "0",
    )
    return env


def test_package_is_small_and_carries_bytecode(package):
    assert package.stat().st_size < 45 * 1024 * 1024
    names = set(zipfile.ZipFile(package).namelist())
    assert "handler.py" in names and "zappa_settings.py" in names
    assert "voj/settings/__pycache__/production.cpython-312.pyc" in names
    assert "django/__pycache__/__init__.cpython-312.pyc" in names
    for absent in (
        "moto/",
        "_pytest/",
        "cfnlint/",
        "playwright/",
        "troposphere/",
        "tests/",
        "var/",
    ):
        assert not any(n.startswith(absent) for n in names), absent
    assert "boto3/session.py" in names and "botocore/client.py" in names
    # psycopg with its own libpq (manylinux: the Lambda runtime has no libpq).
    assert "psycopg/__init__.py" in names
    assert "psycopg_binary/_psycopg.cpython-312-x86_64-linux-gnu.so" in names
    assert any(n.startswith("psycopg_binary.libs/libpq-") for n in names)
    assert {n for n in names if n.endswith(".dist-info/METADATA")} == {
        f"{name}-{version('psycopg')}.dist-info/METADATA" for name in METADATA_KEPT
    }
    models = {n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 3}
    assert models == {*RUNTIME_SERVICES, *SDK_SERVICES}
    endpoints = json.loads(zipfile.ZipFile(package).read("botocore/data/endpoints.json"))
    assert {name for p in endpoints["partitions"] for name in p["services"]} == {
        *RUNTIME_SERVICES,
        *SDK_SERVICES,
    }
    settings_py = zipfile.ZipFile(package).read("zappa_settings.py").decode()
    assert "SECRET" not in settings_py.replace("VOJ_SECRETS", "")


def test_handler_answers_api_gateway(package, migrated_env, tmp_path):
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    logs: list[str] = []
    results = invoke(
        task,
        runtime,
        [
            api_gateway_event("/api/v1/health"),
            api_gateway_event("/api/v1/health/detailed"),
            api_gateway_event("/api/v1/books"),
        ],
        migrated_env,
        logs=logs,
    )
    # One JSON line per request, voj's own: Zappa's common-log line would repeat it.
    records = [json.loads(line) for line in logs if line.startswith("{")]
    requests = [r for r in records if r["logger"] == "voj.requests"]
    assert [r["path"] for r in requests] == [  # behind the stage's prefix
        "/prod/api/v1/health",
        "/prod/api/v1/health/detailed",
        "/prod/api/v1/books",
    ]
    assert not [r for r in records if r["logger"].startswith("zappa")]
    assert not [line for line in logs if '" 200 ' in line or "HTTP/1.1" in line]
    health, detailed, books, loaded = results
    assert health["status"] == 200, health
    assert json.loads(health["body"]) == {"status": "ok"}
    assert detailed["status"] == 200, detailed
    checks = json.loads(detailed["body"])["checks"]
    assert checks["repository"] == {"status": "ok"} and checks["storage"] == {"status": "ok"}
    assert books["status"] == 401  # the API itself, behind its authentication
    # Django and the AWS SDK came from the package, not from the runtime's site-packages.
    assert loaded["django"].startswith(str(task))
    assert loaded["botocore"].startswith(str(task))
    # Nothing in production loads Django's test framework (SOURCE_PATCHES).
    assert loaded["django.test"] is False
    # Without DATABASE_URL the PostgreSQL driver stays off the cold start.
    assert loaded["psycopg"] is False
    # Start-up's objects were frozen after the first request, and collection is back on.
    assert loaded["gc"]["enabled"] is True
    assert loaded["gc"]["frozen"] > 100_000


def test_harness_can_answer_aws_at_zero_latency(package, migrated_env, tmp_path):
    """The bench's zero-latency mode (make bench): from the given event on, botocore's requests
    are answered with moto's earlier answers, and none reaches the wire."""
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    events = [api_gateway_event("/api/v1/health/detailed")] * 4
    *replayed, _ = invoke(task, runtime, events, {**migrated_env, "HARNESS_REPLAY_FROM": "1"})
    assert [r["status"] for r in replayed] == [200] * 4
    assert replayed[0]["aws_requests_sent"] > 0
    assert [r["aws_requests_sent"] for r in replayed[1:]] == [0, 0, 0]
    checks = [json.loads(r["body"])["checks"] for r in replayed]
    assert all(c["repository"] == {"status": "ok"} for c in checks)
    assert all(c["storage"] == {"status": "ok"} for c in checks)


def test_the_bench_requests_replay_each_table_its_own_answer(package, moto_server, tmp_path):
    """stream-url by the chapter's id reads the account record, the by-id index and the book's
    head; named with its book, one BatchGetItem of three tables; a progress report that
    BatchGetItem, then the progress item and its write: at zero latency each gets the answer
    its own request gave, so they answer 200 and a report still takes the write path."""
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    env, token, book = latency.prepare_aws(moto_server, tmp_path)
    headers = {"Authorization": f"Bearer {token}"}
    by_id = api_gateway_event(f"/api/v1/audio/{book.stream_chapter_id}/stream-url", headers=headers)
    in_book = api_gateway_event(
        f"/api/v1/books/{book.book_id}/chapters/{book.stream_chapter_id}/stream-url",
        headers=headers,
    )
    for events in ([by_id] * 4, [in_book] * 4, latency.progress_events(book, token, 4)):
        *_, answers = latency.warm(task, runtime, env, events, zero_latency=True)
        assert len(answers) == 2
    assert all(json.loads(answer["body"])["applied"] for answer in answers)


@pytest.mark.postgres
def test_handler_on_postgresql(package, prod_env, postgres_url, tmp_path):
    """DATABASE_URL set: the package's own psycopg and libpq, loaded in the Lambda-like runtime,
    serve the operator database from a real PostgreSQL (migrated as a deploy migrates it)."""
    from tests.helpers import manage

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VOJ_", "DJANGO_"))},
        "VOJ_ENV": "local",
        "VOJ_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": postgres_url,
        "OPERATOR_PASSWORD_FOR_TEST": "packaged-pass-phrase-1",
    }
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["create_operator", "--username", "ops", "--password-env", "OPERATOR_PASSWORD_FOR_TEST"],
    ):
        manage(env, *command)
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    login = api_gateway_event(
        "/api/v1/auth/login",
        method="POST",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"username": "ops", "password": "packaged-pass-phrase-1"}),
    )
    detailed, signed_in, loaded = invoke(
        task,
        runtime,
        [api_gateway_event("/api/v1/health/detailed"), login],
        {**prod_env, "DATABASE_URL": postgres_url},
    )
    assert detailed["status"] == 200, detailed
    assert json.loads(detailed["body"])["checks"]["database"] == {"status": "ok"}
    assert signed_in["status"] == 200, signed_in
    assert json.loads(signed_in["body"])["user"]["username"] == "ops"
    assert loaded["psycopg"] is True


def test_operator_console_is_styled_in_production(package, prod_env, tmp_path):
    """No web server in front of Lambda: WhiteNoise serves the admin's collected assets."""
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    env = {**prod_env, "VOJ_OPSDB_PATH": str(tmp_path / "ops.sqlite3")}
    login, *_ = invoke(task, runtime, [api_gateway_event("/admin/login/")], env)
    assert login["status"] == 200, login
    import re

    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login["body"])
    assert stylesheet, login["body"][:500]
    css, *_ = invoke(task, runtime, [api_gateway_event(stylesheet.group(1))], env)
    assert css["status"] == 200
    assert "body" in css["body"]


def test_listener_page_and_its_files_are_served_in_production(package, prod_env, tmp_path):
    """The listener page's shell names its script and stylesheet by their hashed names, and
    WhiteNoise serves them from the package: no build step, nothing from another host."""
    import re

    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    env = {**prod_env, "VOJ_OPSDB_PATH": str(tmp_path / "ops.sqlite3")}
    shell, *_ = invoke(task, runtime, [api_gateway_event("/listen/")], env)
    assert shell["status"] == 200, shell
    names = re.findall(r'"(/static/listening/listen\.[0-9a-f]{12}\.(?:js|css))"', shell["body"])
    assert sorted(name.rsplit(".", 1)[1] for name in names) == ["css", "js"], shell["body"][:500]
    # invoke answers each event, then what the process loaded.
    files = invoke(task, runtime, [api_gateway_event(name) for name in names], env)[: len(names)]
    for name, served in zip(names, files, strict=True):
        assert served["status"] == 200, (name, served["status"])
    script = files[[n.endswith(".js") for n in names].index(True)]["body"]
    assert "/listen/session" in script


BOTOCORE_DATA = Path(botocore.__file__).parent / "data"


def resolve(resolver: EndpointResolver, service: str, region: str, **variant) -> object:
    try:
        return resolver.construct_endpoint(service, region, **variant)
    except BotoCoreError as error:
        return type(error).__name__


def test_trimmed_endpoint_table_resolves_kept_services_as_the_full_one():
    full = json.loads((BOTOCORE_DATA / "endpoints.json").read_text())
    services = (*RUNTIME_SERVICES, *SDK_SERVICES)
    prefixes = {endpoint_prefix(BOTOCORE_DATA / name) for name in services}
    trimmed = endpoints_keep(full, prefixes)
    assert len(json.dumps(trimmed)) < len(json.dumps(full)) / 10
    before, after = EndpointResolver(full), EndpointResolver(trimmed)
    regions = {region for p in full["partitions"] for region in p["regions"]}
    compared = 0
    for prefix, region, dualstack, fips in itertools.product(
        sorted(prefixes), sorted(regions), (False, True), (False, True)
    ):
        variant = {"use_dualstack_endpoint": dualstack, "use_fips_endpoint": fips}
        assert resolve(after, prefix, region, **variant) == resolve(
            before, prefix, region, **variant
        ), (prefix, region, variant)
        compared += 1
    assert compared > 100
    for prefix in prefixes:
        assert after.get_available_endpoints(prefix) == before.get_available_endpoints(prefix)
    # A service cut from the table falls back to its partition's defaults: never a wrong answer
    # for a service the package has no model for, since botocore cannot build its client.
    assert "lambda" not in {name for p in trimmed["partitions"] for name in p["services"]}


def test_endpoint_prefix_is_read_from_the_model():
    assert endpoint_prefix(BOTOCORE_DATA / "dynamodb") == "dynamodb"
    assert endpoint_prefix(BOTOCORE_DATA / "dynamodbstreams") == "streams.dynamodb"


def test_source_patches_match_the_pinned_dependencies(tmp_path):
    site = Path(rest_framework_simplejwt.__file__).parent.parent
    for relative, _, _ in SOURCE_PATCHES:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text((site / relative).read_text())
    source_patches_apply(tmp_path)
    for relative, released, shipped in SOURCE_PATCHES:
        text = (tmp_path / relative).read_text()
        assert released not in text and text.count(shipped) == 1
    # The signal simplejwt listens to is the one Django's settings overrides send.
    from django.core.signals import setting_changed as core
    from django.test.signals import setting_changed as test

    assert core is test


def test_source_patch_refuses_a_changed_file(tmp_path):
    relative, released, _ = SOURCE_PATCHES[0]
    (tmp_path / relative).parent.mkdir(parents=True)
    (tmp_path / relative).write_text("# reworked upstream\n")
    with pytest.raises(SystemExit, match="changed upstream"):
        source_patches_apply(tmp_path)
    (tmp_path / relative).write_text(f"{released}\n{released}\n")
    with pytest.raises(SystemExit, match="changed upstream"):
        source_patches_apply(tmp_path)


def _login_event(username: str, *, source_ip: str, forwarded_for: str) -> dict:
    return api_gateway_event(
        "/api/v1/auth/login",
        method="POST",
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        body=json.dumps({"username": username, "password": "wrong"}),
        source_ip=source_ip,
    )


def test_login_limit_counts_the_address_api_gateway_saw(package, migrated_env, tmp_path):
    """Through Zappa's handler: REMOTE_ADDR there comes from X-Forwarded-For, which a client
    writes into; the login limit counts the source address API Gateway saw instead
    (requestContext.http.sourceIp in the HTTP API's events)."""
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    attacker, bystander = "198.51.100.20", "198.51.100.21"
    events = [
        # A different claimed address each time, as a client of a regional endpoint can send.
        _login_event(f"guess-{i}", source_ip=attacker, forwarded_for=f"10.0.0.{i}")
        for i in range(4)
    ]
    # Someone else claiming to be the attacker is not refused for the attacker's failures.
    events.append(_login_event("guess-x", source_ip=bystander, forwarded_for=attacker))
    *answers, _ = invoke(
        task, runtime, events, {**migrated_env, "VOJ_LOGIN_FAILURES_PER_ADDRESS": "3"}
    )
    assert [answer["status"] for answer in answers] == [401, 401, 401, 429, 401], answers
    assert json.loads(answers[3]["body"])["code"] == "throttled"


def test_unmigrated_stage_answers_503_and_names_the_release_step(package, prod_env, tmp_path):
    """A stage deployed without the release's migrate step: login and the detailed health say
    what is wrong (503, a code, one log line naming the fix), never a 500."""
    task = unpack(package, tmp_path / "task")
    runtime = runtime_dir(tmp_path / "runtime")
    logs: list[str] = []
    login, detailed, _ = invoke(
        task,
        runtime,
        [
            _login_event("ops", source_ip="198.51.100.30", forwarded_for="198.51.100.30"),
            api_gateway_event("/api/v1/health/detailed"),
        ],
        _own_operator_database(prod_env, tmp_path),
        logs=logs,
    )
    assert login["status"] == 503, login
    assert json.loads(login["body"])["code"] == "operator_db_not_migrated"
    assert detailed["status"] == 503, detailed
    check = json.loads(detailed["body"])["checks"]["migrations"]
    assert check["error"] == "OperatorDatabaseNotMigrated"
    assert "python -m deploy migrate" in check["cause"]
    records = [json.loads(line) for line in logs if line.startswith("{")]
    refusals = [r for r in records if r["logger"] == "voj.database"]
    assert len(refusals) == 1 and "python -m deploy migrate" in refusals[0]["message"], refusals
