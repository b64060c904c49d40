"""The operator database's read-only mode (voj/opsdb/read_only.py), which the switch to another
database turns on: operators' writes are refused with a 503 that says why, sign-ins go on. And
the errors a database the function cannot use gives: JSON under /api/, behind API Gateway's
stage prefix too, never an HTML 500."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError
from django.test import RequestFactory

from voj import migration_state
from voj.errors import RETRY_AFTER_SECONDS, handler500
from voj.migration_state import UnmigratedDatabaseMiddleware
from voj.opsdb.read_only import (
    OperatorDatabaseReadOnly,
    OperatorDatabaseReadOnlyMiddleware,
    read_only_clear,
    read_only_reason,
    read_only_set,
)


@pytest.mark.django_db
def test_console_writes_are_refused_while_sign_ins_go_on(client, operator):
    client.force_login(operator)
    read_only_set("switch to postgres")
    assert read_only_reason() == "switch to postgres"

    refused = client.post("/admin/auth/group/add/", {"name": "editors-2"})
    assert refused.status_code == 503
    assert refused["Content-Type"].startswith("text/plain")
    assert "read-only while it moves" in refused.content.decode()
    assert not Group.objects.filter(name="editors-2").exists()
    # Reading the console and signing in (which writes only the security state) go on.
    assert client.get("/admin/auth/group/").status_code == 200
    login = client.post(
        "/api/v1/auth/login",
        {"username": "operator", "password": "pw-operator-1"},
        content_type="application/json",
    )
    assert login.status_code == 200, login.content
    assert client.post("/admin/logout/").status_code == 200

    read_only_clear()
    client.force_login(operator)
    assert client.post("/admin/auth/group/add/", {"name": "editors-2"}).status_code == 302
    assert Group.objects.filter(name="editors-2").exists()


def test_an_api_write_is_refused_as_json():
    request = RequestFactory().post("/api/v1/anything", SCRIPT_NAME="/prod")
    middleware = OperatorDatabaseReadOnlyMiddleware(lambda request: None)
    response = middleware.process_exception(request, OperatorDatabaseReadOnly())
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "operator_db_read_only"


def test_a_500_behind_the_stage_prefix_is_json():
    """Zappa puts the stage in SCRIPT_NAME (/prod/api/...): the API is told by path_info."""
    request = RequestFactory().post("/api/v1/auth/login", SCRIPT_NAME="/prod")
    assert request.path == "/prod/api/v1/auth/login"
    response = handler500(request)
    assert response.status_code == 500
    assert json.loads(response.content) == {
        "detail": "Internal server error.",
        "code": "server_error",
    }


def test_an_unreachable_database_is_a_503(monkeypatch):
    def unreachable(*args):
        raise OperationalError("connection refused")

    monkeypatch.setattr(migration_state, "pending_migrations", unreachable)
    middleware = UnmigratedDatabaseMiddleware(lambda request: None)
    api = RequestFactory().post("/api/v1/auth/login", SCRIPT_NAME="/prod")
    response = middleware.process_exception(api, OperationalError("connection refused"))
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "operator_db_unavailable"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    console = RequestFactory().post("/admin/login/")
    response = middleware.process_exception(console, OperationalError("connection refused"))
    assert response.status_code == 503 and b"cannot be reached" in response.content
