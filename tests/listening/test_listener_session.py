"""The listener page's session endpoints through HTTP: the refresh token only ever travels in an
HttpOnly cookie scoped to /listen/session, the rules are the API's (throttle, rotation,
revocation), and every request must be JSON."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from listening.session import COOKIE, COOKIE_PATH

# Revocation and throttling keep their state in the operator database or DynamoDB.
pytestmark = pytest.mark.usefixtures("operator_database")

START, REFRESH, END = "/listen/session", "/listen/session/refresh", "/listen/session/end"


def start(client: Client, username: str = "listener", password: str = "pw-listener-1", **extra):
    body = {"username": username, "password": password}
    return client.post(START, body, content_type="application/json", **extra)


def post(client: Client, path: str):
    return client.post(path, {}, content_type="application/json")


def cookie_header(response) -> str:
    return response.cookies[COOKIE].output(header="")


def test_sign_in_sets_a_scoped_http_only_cookie_and_answers_the_access_token(backend, listener):
    client = Client()
    response = start(client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "user"}  # no refresh token for a script to read
    assert body["user"]["username"] == "listener"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == COOKIE_PATH
    assert not cookie["secure"]  # plain HTTP on a laptop; production sets Secure (below)
    assert int(cookie["max-age"]) == 7 * 24 * 3600
    assert response["Cache-Control"] == "no-store"
    me = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["username"] == "listener"


def test_the_cookie_is_secure_in_production(backend, listener, settings):
    settings.SESSION_COOKIE_SECURE = True  # as voj/settings/production.py has it
    assert "Secure" in cookie_header(start(Client()))


def test_bad_credentials_are_the_api_login_s_401(backend, listener):
    response = start(Client(), password="wrong")
    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"
    assert (
        response.json()
        == Client()
        .post(
            "/api/v1/auth/login",
            {"username": "listener", "password": "wrong"},
            content_type="application/json",
        )
        .json()
    )
    assert COOKIE not in response.cookies


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "listener"}, {"username": ["a"], "password": "x"}, [], "text", None],
)
def test_a_malformed_sign_in_is_a_400(backend, listener, body):
    response = Client().post(START, body, content_type="application/json")
    assert response.status_code == 400
    assert "code" in response.json() and COOKIE not in response.cookies


def test_the_login_throttle_applies(backend, listener):
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(10):
        assert start(client, password="wrong").status_code == 401
    refused = start(client)  # the right password, too late
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) > 0
    # The API login counts the same failures: one limit, whichever door.
    api = Client(REMOTE_ADDR="198.51.100.7").post(
        "/api/v1/auth/login",
        {"username": "listener", "password": "pw-listener-1"},
        content_type="application/json",
    )
    assert api.status_code == 429


def test_refresh_rotates_the_cookie_and_the_old_one_is_used_up(backend, listener):
    client = Client()
    start(client)
    first = client.cookies[COOKIE].value
    refreshed = post(client, REFRESH)
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access"}
    assert refreshed["Cache-Control"] == "no-store"
    second = refreshed.cookies[COOKIE].value
    assert second != first and refreshed.cookies[COOKIE]["path"] == COOKIE_PATH
    me = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert me.status_code == 200
    # The first token was used up: replaying it is refused. The cookie is left as it is: in a
    # browser, that answer may arrive after another tab's refresh set the new one.
    replay = Client()
    replay.cookies[COOKIE] = first
    refused = post(replay, REFRESH)
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_not_valid"
    assert COOKIE not in refused.cookies


def test_two_tabs_refreshing_at_once_keep_the_winner_s_cookie(backend, listener):
    """Both tabs send the cookie's token; one refresh wins. The loser's 401 must not delete the
    winner's new cookie, whichever answer the browser reads last."""
    browser = Client()
    start(browser)
    token = browser.cookies[COOKIE].value
    other_tab = Client()
    other_tab.cookies[COOKIE] = token
    won = post(browser, REFRESH)
    lost = post(other_tab, REFRESH)
    assert (won.status_code, lost.status_code) == (200, 401)
    assert COOKIE not in lost.cookies  # no Set-Cookie: the winner's cookie stays
    assert post(browser, REFRESH).status_code == 200  # and still works


@pytest.mark.parametrize("value", [None, "", "garbage", "a.b.c"])
def test_refresh_without_a_valid_cookie_is_a_401(backend, value):
    client = Client()
    if value is not None:
        client.cookies[COOKIE] = value
    response = post(client, REFRESH)
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_end_revokes_the_token_and_clears_the_cookie(backend, listener):
    client = Client()
    start(client)
    token = client.cookies[COOKIE].value
    ended = post(client, END)
    assert ended.status_code == 204
    assert ended.cookies[COOKIE].value == "" and ended.cookies[COOKIE]["path"] == COOKIE_PATH
    again = Client()
    again.cookies[COOKIE] = token
    assert post(again, REFRESH).status_code == 401  # revoked, not merely forgotten
    # The API's refresh refuses it as well: one revocation list.
    api = Client().post("/api/v1/auth/refresh", {"refresh": token}, content_type="application/json")
    assert api.status_code == 401


@pytest.mark.parametrize("cookie", [None, "garbage"])
def test_end_without_a_session_is_still_a_204(backend, cookie):
    client = Client()
    if cookie:
        client.cookies[COOKIE] = cookie
    assert post(client, END).status_code == 204


@pytest.mark.parametrize("path", [START, REFRESH, END])
@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", ""],
)
def test_only_json_is_accepted(listener, path, content_type):
    """What a cross-site form can send without a preflight is refused before anything runs."""
    client = Client()
    start(client)
    token = client.cookies[COOKIE].value
    form = "username=listener&password=pw-listener-1"
    response = client.post(path, form, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert COOKIE not in response.cookies
    assert client.cookies[COOKIE].value == token
    assert post(client, REFRESH).status_code == 200  # not used up, not revoked


@pytest.mark.parametrize("path", [START, REFRESH, END])
def test_only_post(db, path):
    assert Client().get(path).status_code == 405


def test_the_page_is_a_shell_with_only_its_own_static_files(db):
    response = Client().get("/listen/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    html = response.content.decode()
    assert re.findall(r"<script\b[^>]*>", html) == [
        '<script type="module" src="/static/listening/listen.js">'
    ]
    assert "</script>" in html and "<style" not in html and " style=" not in html
    assert not re.search(r"<[^>]+\son[a-z]+=", html)  # no inline event handlers
    assert re.findall(r'href="([^"]+\.css)"', html) == ["/static/listening/listen.css"]
    assert "http://" not in html and "https://" not in html
    assert Client().get("/listen").status_code == 301
    assert Client().post("/listen/").status_code == 405


@pytest.mark.parametrize("content_type", ["application/json-patch+json", "application/jsonx"])
def test_types_that_only_look_like_json_are_refused(listener, content_type):
    client = Client()
    start(client)
    for path in (START, REFRESH, END):
        response = client.post(path, b"{}", content_type=content_type)
        assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert post(client, REFRESH).status_code == 200  # END above revoked nothing


@pytest.mark.parametrize(
    "body",
    [b"{", b"\xff\xfe{}", b'{"username": "\\ud800", "password": "x"}', b"NaN"],
    ids=["truncated", "not-utf8", "lone-surrogate", "nan"],
)
def test_a_broken_sign_in_body_is_a_400_without_a_cookie(db, listener, body):
    response = Client().post(START, body, content_type="APPLICATION/JSON; charset=utf-8")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"parse_error", "invalid"}
    assert COOKIE not in response.cookies


def test_an_access_token_in_the_cookie_opens_nothing(backend, listener):
    """The access token a sign-in answers, put where the refresh token goes: refused as the
    wrong type, the cookie cleared; ending with it revokes nothing. A bearer header is no
    cookie either."""
    client = Client()
    access = start(client).json()["access"]
    forged = Client()
    forged.cookies[COOKIE] = access
    refused = post(forged, REFRESH)
    assert (refused.status_code, refused.json()["code"]) == (401, "token_not_valid")
    assert refused.cookies[COOKIE].value == ""
    assert post(forged, END).status_code == 204
    bearer = Client().post(
        REFRESH, {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {access}"
    )
    assert bearer.status_code == 401
    me = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 200  # the access token itself was not revoked by the attempts
    assert post(client, REFRESH).status_code == 200
