"""Signing in to the operator console and browsing it write nothing to the operator database.

In production that database is a SQLite file published to S3 after any request that changed it
(voj/opsdb: a change is seen in the connection's ``total_changes``); a write per sign-in made
two operators signing in at once on two containers conflict. The security state (login
counts) is in DynamoDB there, as here.
"""

from __future__ import annotations

from django.db import connection
from django.test import Client


def _changes() -> int:
    connection.ensure_connection()
    return connection.connection.total_changes


def test_sign_in_and_page_views_write_nothing(dynamodb_tables, operator):
    client = Client()
    before = _changes()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "operator", "password": "pw-operator-1"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    for page in (
        "/admin/",
        "/admin/auth/user/",
        f"/admin/auth/user/{operator.pk}/change/",
        "/admin/catalogue/books/",
        "/admin/cdn/",
    ):
        assert client.get(page).status_code == 200, page
    assert client.post("/admin/logout/").status_code == 200
    assert _changes() == before
    operator.refresh_from_db()
    assert operator.last_login is None


def test_a_failed_sign_in_writes_nothing_either(dynamodb_tables, operator):
    before = _changes()
    page = Client().post("/admin/login/", {"username": "operator", "password": "wrong"})
    assert page.status_code == 200 and b"errornote" in page.content
    assert _changes() == before


def test_api_login_writes_nothing(dynamodb_tables, editor):
    before = _changes()
    response = Client().post(
        "/api/v1/auth/login",
        {"username": "editor", "password": "pw-editor-1"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert _changes() == before
