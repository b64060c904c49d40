"""Tokens die with the password, with deactivation and with logout; refresh tokens rotate."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

# Login limits and revocation on both operator databases, SQLite and PostgreSQL (tests/postgres.py).
pytestmark = pytest.mark.usefixtures("operator_database")


def login(username: str = "editor", password: str = "pw-editor-1") -> dict:
    response = Client().post(
        "/api/v1/auth/login",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def me(access: str):
    return Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}")


def refresh(token: str):
    return Client().post(
        "/api/v1/auth/refresh", {"refresh": token}, content_type="application/json"
    )


def logout(token: str):
    return Client().post("/api/v1/auth/logout", {"refresh": token}, content_type="application/json")


def _refused(response, code: str | None = None) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["detail"] and body["code"]
    if code:
        assert body["code"] == code, body


def test_a_password_change_refuses_older_tokens(backend, editor):
    tokens = login()
    assert me(tokens["access"]).status_code == 200
    editor.set_password("a-new-password-2")
    editor.save()
    _refused(me(tokens["access"]), "password_changed")
    _refused(refresh(tokens["refresh"]), "password_changed")
    fresh = login(password="a-new-password-2")
    assert me(fresh["access"]).status_code == 200


def test_deactivation_refuses_older_tokens(backend, editor):
    tokens = login()
    editor.is_active = False
    editor.save()
    _refused(me(tokens["access"]))
    _refused(refresh(tokens["refresh"]), "no_active_account")


def test_a_deleted_user_s_refresh_token_is_a_401(backend, editor):
    tokens = login()
    editor.delete()
    _refused(refresh(tokens["refresh"]), "no_active_account")


def test_refresh_rotates_and_uses_up_the_token(backend, editor):
    tokens = login()
    first = refresh(tokens["refresh"])
    assert first.status_code == 200
    rotated = first.json()
    assert set(rotated) == {"access", "refresh"} and rotated["refresh"] != tokens["refresh"]
    assert me(rotated["access"]).status_code == 200
    _refused(refresh(tokens["refresh"]), "token_not_valid")  # a replayed refresh token
    assert refresh(rotated["refresh"]).status_code == 200


def test_logout_revokes_the_refresh_token(backend, editor):
    tokens = login()
    response = logout(tokens["refresh"])
    assert response.status_code == 204
    _refused(refresh(tokens["refresh"]), "token_not_valid")
    assert logout(tokens["refresh"]).status_code == 204  # twice is not an error


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": "not-a-token"}, {"refresh": 5}])
def test_logout_with_a_bad_token_is_a_json_4xx(backend, body):
    response = Client().post("/api/v1/auth/logout", body, content_type="application/json")
    assert response.status_code in (400, 401), response.content
    assert response.json()["code"]


def test_an_access_token_is_not_a_refresh_token(backend, editor):
    tokens = login()
    _refused(logout(tokens["access"]), "token_not_valid")
    _refused(refresh(tokens["access"]), "token_not_valid")


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_have_one_winner(editor):
    tokens = login()
    barrier = threading.Barrier(4)
    statuses = []

    def run():
        barrier.wait()
        statuses.append(refresh(tokens["refresh"]).status_code)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401, 401, 401]
