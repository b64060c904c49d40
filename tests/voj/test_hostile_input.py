"""Hostile input gets a JSON 4xx ``{"detail", "code"}`` on every API path, never a 500."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from tests.conftest import Api, bearer
from tests.helpers import book_create
from tests.listening.steps import listenable_book

NESTED = b'{"username": ' + b"[" * 1500 + b"]" * 1500 + b', "password": "x"}'
TOO_DEEP_FOR_US = json.dumps({"title": json.loads("[" * 40 + "]" * 40), "author": "a"}).encode()


def _assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if code:
        assert body["code"] == code, body
    return body


@pytest.fixture
def endpoints(as_editor, editor):
    """Every endpoint that reads a JSON body, with the method it takes."""
    book = book_create(as_editor)
    listened, [chapter] = listenable_book(as_editor, title="Listened")
    mark = as_editor.post(
        "/api/v1/me/bookmarks",
        {"book_id": listened["id"], "chapter_id": chapter["id"], "position_seconds": 1.0},
    ).json()
    return [
        ("put", f"/api/v1/me/progress/{listened['id']}", bearer(editor)),
        ("post", "/api/v1/me/progress/batch", bearer(editor)),
        ("post", "/api/v1/me/bookmarks", bearer(editor)),
        ("patch", f"/api/v1/me/bookmarks/{mark['id']}", bearer(editor)),
        ("post", f"/api/v1/books/{book['id']}/cover", bearer(editor)),
        ("post", "/api/v1/auth/login", {}),
        ("post", "/api/v1/auth/refresh", {}),
        ("post", "/api/v1/auth/logout", {}),
        ("post", "/api/v1/books", bearer(editor)),
        ("patch", f"/api/v1/books/{book['id']}", bearer(editor)),
        ("post", f"/api/v1/books/{book['id']}/chapters", bearer(editor)),
    ]


def _send(method: str, path: str, body: bytes, headers: dict, **extra):
    client = Client()
    return getattr(client, method)(
        path, body, content_type=extra.pop("content_type", "application/json"), **headers, **extra
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(NESTED, id="nested-1500-deep"),
        pytest.param(TOO_DEEP_FOR_US, id="nested-past-the-limit"),
        pytest.param(b'{"title": ', id="truncated"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b'{"title": NaN, "author": Infinity}', id="nan"),
        pytest.param(b'{"size_bytes": ' + b"9" * 5000 + b"}", id="5000-digit-number"),
    ],
)
def test_malformed_json_is_a_400_on_every_endpoint(endpoints, body):
    for method, path, headers in endpoints:
        _assert_json_error(_send(method, path, body, headers), 400, "parse_error")


@pytest.mark.django_db
def test_a_body_over_the_limit_is_a_413(endpoints, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    huge = json.dumps({"title": "x" * (65 * 1024), "author": "a"}).encode()
    for method, path, headers in endpoints:
        _assert_json_error(_send(method, path, huge, headers), 413, "request_too_large")


@pytest.mark.django_db
def test_numbers_out_of_range_are_field_errors(as_editor):
    book = book_create(as_editor)
    response = as_editor.client.post(
        f"/api/v1/books/{book['id']}/chapters",
        b'{"title": "t", "filename": "a.m4a", "content_type": "audio/mp4", "size_bytes": 1e999}',
        content_type="application/json",
        **as_editor.headers,
    )
    body = _assert_json_error(response, 400, "invalid")
    assert "size_bytes" in body


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_a_host_outside_allowed_hosts_is_json_and_a_warning(settings, caplog, debug):
    settings.DEBUG = debug
    caplog.set_level(logging.INFO)
    response = Client().post(
        "/api/v1/auth/login", {}, content_type="application/json", HTTP_HOST="evil.example"
    )
    _assert_json_error(response, 400, "bad_host")
    refused = [r for r in caplog.records if "evil.example" in r.getMessage()]
    assert refused and all(r.levelno == logging.WARNING for r in refused)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.django_db
def test_a_bad_host_on_the_admin_is_logged_as_a_warning_too(caplog):
    caplog.set_level(logging.INFO)
    response = Client().get("/admin/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r for r in caplog.records if r.name == "django.security.DisallowedHost"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_to_an_unknown_api_path_is_a_404_not_a_csrf_failure(method):
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "x"
    response = getattr(client, method)("/api/v1/no-such-endpoint", {"a": "b"})
    _assert_json_error(response, 404, "not_found")
    # The admin keeps Django's CSRF page.
    page = client.post("/admin/login/", {"username": "a", "password": "b"})
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")


def test_a_csrf_failure_under_the_api_would_be_json(rf):
    """No API path takes a cookie, so none reaches the CSRF check today; one that did would
    still answer JSON."""
    from voj.errors import csrf_failure

    response = csrf_failure(rf.post("/api/v1/books"), "no cookie")
    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "csrf_failed"


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["abc", "1e3", "\u00b2", "-5", "12 "])
def test_a_malformed_content_length_is_a_400(as_editor, length):
    for path in ("/api/v1/uploads", "/api/v1/books"):
        response = Client().post(
            path, b"{}", content_type="application/json", CONTENT_LENGTH=length, **as_editor.headers
        )
        _assert_json_error(response, 400, "invalid_length")


def test_the_upload_view_itself_refuses_a_malformed_length(rf):
    """Behind the middleware too: the view never calls int() on an unchecked header."""
    from streaming.views import upload_receive

    request = rf.post("/api/v1/uploads", b"x", content_type="multipart/form-data; boundary=b")
    request.META["CONTENT_LENGTH"] = "\u00b2"
    response = upload_receive(request)
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "InvalidArgument"


@pytest.mark.django_db
@pytest.mark.parametrize("expires", ["%C2%B2", "abc", "1e3", "", "-1", "%EF%BC%91"])
def test_a_stream_url_with_a_malformed_expiry_is_a_403(expires):
    response = Client().get(f"/stream/media/books/b/chapters/c-1.m4a?expires={expires}&signature=x")
    _assert_json_error(response, 403, "invalid_signature")


@pytest.mark.django_db
def test_a_method_a_view_does_not_take_is_json_with_allow():
    response = Client().get("/api/v1/uploads")
    _assert_json_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


def test_odd_requests_are_json_4xx(backend, as_editor, editor):
    book = book_create(as_editor)
    auth = bearer(editor)
    cases = [
        ("GET", "/api/v1/books?limit=%C2%B2", b"", "", auth, 400),
        ("GET", "/api/v1/books?limit=1e3", b"", "", auth, 400),
        ("GET", "/api/v1/books?cursor=%FF%FE", b"", "", auth, 400),
        ("GET", "/api/v1/books", b"", "", {**auth, "HTTP_ACCEPT": "text/html"}, 406),
        ("POST", "/api/v1/books", b"a=b", "application/x-www-form-urlencoded", auth, 415),
        ("PUT", f"/api/v1/books/{book['id']}", b"{}", "application/json", auth, 405),
        ("GET", "/api/v1/books/" + "x" * 3000, b"", "", auth, 404),
        ("GET", "/api/v1/audio/%C2%B2/stream-url", b"", "", auth, 404),
        ("GET", "/api/v1/auth/me", b"", "", {"HTTP_AUTHORIZATION": "Bearer " + "a" * 9000}, 401),
        (
            "POST",
            "/api/v1/auth/login",
            b'{"username": "\\ud800", "password": "x"}',
            "application/json",
            {},
            400,
        ),
        ("POST", "/api/v1/auth/login", b'["a"]', "application/json", {}, 400),
        ("POST", "/api/v1/auth/login", b"{}", "application/json; charset=utf-99", {}, 400),
        ("POST", "/api/v1/auth/login", b"{}", "application/json; charset=rot13", {}, 400),
        (
            "PATCH",
            f"/api/v1/books/{book['id']}",
            b'{"version": ' + b"9" * 60 + b"}",
            "application/json",
            auth,
            409,
        ),
    ]
    for number in (b"9" * 60, b"-1", b"1.5", b'"\\u00b2"'):
        chapter = b'{"title": "t", "filename": "a.m4a", "content_type": "audio/mp4", '
        chapter += b'"size_bytes": 10, "number": ' + number + b"}"
        cases.append(
            ("POST", f"/api/v1/books/{book['id']}/chapters", chapter, "application/json", auth, 400)
        )
    for method, path, body, content_type, headers, status in cases:
        extra = {"content_type": content_type} if content_type else {}
        response = Client().generic(method, path, body, **extra, **headers)
        _assert_json_error(response, status)


@pytest.mark.django_db
def test_an_upload_form_field_over_the_limit_is_a_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="policy"\r\n\r\n'.encode()
        + b"x" * (65 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = Client().generic(
        "POST",
        "/api/v1/uploads",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    _assert_json_error(response, 413, "request_too_large")


@pytest.mark.django_db
def test_a_refusal_made_json_keeps_cors_and_security_headers(settings):
    """Django's own 405 rewritten as JSON still carries what CORS and the security middleware
    put on it: a browser front end can read it, nosniff still applies."""
    from django.test import Client

    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = Client().put("/api/v1/uploads", HTTP_ORIGIN="https://app.example.com")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Allow" in response


def test_a_throttled_security_table_is_a_503_not_a_500(dynamodb, editor):
    """Login counts failures in the security table; a throttled DynamoDB (after botocore's
    retries) is 'try again', as for the catalogue."""
    from voj.aws import aws_client

    def throttled(**_):
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "UpdateItem"
        )

    aws_client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem", throttled)
    response = Api(None).post("/api/v1/auth/login", {"username": "editor", "password": "x"})
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"


def _throttle(operation: str) -> None:
    """Every `operation` request to DynamoDB fails as a throttled one does after botocore's
    retries."""
    from botocore.exceptions import ClientError

    from voj.aws import aws_client

    def throttled(**_):
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "injected"}}, operation
        )

    aws_client("dynamodb").meta.events.register(f"before-call.dynamodb.{operation}", throttled)


def test_stream_url_with_the_security_table_throttled_is_a_503(dynamodb, as_editor, as_listener):
    from tests.helpers import playable_chapter

    chapter = playable_chapter(as_editor)
    _throttle("GetItem")
    response = as_listener.get(f"/api/v1/audio/{chapter['id']}/stream-url")
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"


def test_the_console_answers_503_when_the_security_table_is_throttled(dynamodb, operator, listener):
    """An account change the security table cannot record fails and changes nothing; a
    throttled sign-in is 'try again', not a 500."""
    from django.contrib.auth import get_user_model

    console = Client()
    console.force_login(operator)
    _throttle("PutItem")
    response = console.post(
        f"/admin/auth/user/{listener.pk}/password/",
        {"password1": "Changed-by-operator-9", "password2": "Changed-by-operator-9"},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert get_user_model().objects.get(pk=listener.pk).check_password("pw-listener-1")
    _throttle("UpdateItem")
    response = Client().post(
        "/admin/login/", {"username": "listener", "password": "wrong", "next": "/admin/"}
    )
    assert response.status_code == 503
    assert b"try again" in response.content
