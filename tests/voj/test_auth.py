from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import Api

# Each test on SQLite and on PostgreSQL (tests/postgres.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("operator_database")]


def test_login_refresh_me(editor, anonymous):
    response = anonymous.post(
        "/api/v1/auth/login", {"username": "editor", "password": "pw-editor-1"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "id": editor.id,
        "username": "editor",
        "is_staff": False,
        "groups": ["editors"],
    }
    refreshed = anonymous.post("/api/v1/auth/refresh", {"refresh": body["refresh"]})
    assert refreshed.status_code == 200
    me = anonymous.client.get(
        "/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}"
    )
    assert me.json()["username"] == "editor"


def test_wrong_password(editor, anonymous):
    response = anonymous.post("/api/v1/auth/login", {"username": "editor", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


def test_login_missing_fields(anonymous):
    response = anonymous.post("/api/v1/auth/login", {"username": "editor"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["password"] == ["This field is required."]


def test_bad_refresh_token(anonymous):
    response = anonymous.post("/api/v1/auth/refresh", {"refresh": "garbage"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_no_token(anonymous):
    response = anonymous.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


def test_expired_token(editor):
    token = AccessToken.for_user(editor)
    token.set_exp(lifetime=-timedelta(seconds=1))
    api = Api(None)
    response = api.client.get("/api/v1/books", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_tampered_token(editor):
    token = str(AccessToken.for_user(editor))
    api = Api(None)
    response = api.client.get("/api/v1/books", HTTP_AUTHORIZATION=f"Bearer {token[:-3]}abc")
    assert response.status_code == 401


def test_me_of_staff(as_operator):
    assert as_operator.get("/api/v1/auth/me").json()["is_staff"] is True


def _never_stored(response) -> None:
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "no-cache", "private"} <= directives, response["Cache-Control"]


def test_token_answers_are_never_stored(editor, anonymous):
    """RFC 6749 §5.1: a response that carries tokens says Cache-Control: no-store."""
    login = anonymous.post("/api/v1/auth/login", {"username": "editor", "password": "pw-editor-1"})
    assert login.status_code == 200
    _never_stored(login)
    refreshed = anonymous.post("/api/v1/auth/refresh", {"refresh": login.json()["refresh"]})
    assert refreshed.status_code == 200
    _never_stored(refreshed)
    me = anonymous.client.get(
        "/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}"
    )
    _never_stored(me)
    _never_stored(anonymous.post("/api/v1/auth/login", {"username": "editor", "password": "x"}))
