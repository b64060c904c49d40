"""Shared fixtures: users and tokens, the API client, both repository backends, moto."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _reset_singletons() -> None:
    from books.repository import get_repository
    from streaming.storage import get_object_store
    from voj.aws import reset_clients

    get_repository.cache_clear()
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
    import os
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


@pytest.fixture
def dynamodb_tables(aws, settings) -> None:
    from books.repository.tables import create_tables
    from voj.aws import aws_client

    settings.VOJ_DATA_BACKEND = "dynamodb"
    _reset_singletons()
    create_tables(
        aws_client("dynamodb"),
        books=settings.VOJ_BOOKS_TABLE,
        chapters=settings.VOJ_CHAPTERS_TABLE,
    )


@pytest.fixture(
    params=[
        pytest.param("sql", marks=pytest.mark.django_db),
        pytest.param("dynamodb", marks=pytest.mark.django_db),
    ]
)
def backend(request) -> str:
    """Runs a test once per data backend (DynamoDB through moto)."""
    if request.param == "dynamodb":
        request.getfixturevalue("dynamodb_tables")
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


@pytest.fixture
def console(operator):
    """The operator console, signed in as a superuser."""
    from django.test import Client

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
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto_server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "ap-northeast-2",
}
