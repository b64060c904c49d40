"""Every page says what it may load: the console, the API docs (and the listener page) carry a
Content-Security-Policy that allows this host's scripts and styles only, nothing inline, and
no framing. The pages themselves hold no inline script or style, so the policy costs nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

CONSOLE_PAGES = [
    "/admin/",
    "/admin/catalogue/books/",
    "/admin/catalogue/chapters/?status=ready",
    "/admin/cdn/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/auth/group/add/",
]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def _assert_strict(policy: dict[str, list[str]]) -> None:
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]


def _assert_nothing_inline(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    assert "<style" not in html, "an inline style block"
    assert not re.search(r"\sstyle=", html), "a style attribute"
    assert not re.search(r"\son[a-z]+=", html), "an event handler attribute"


@pytest.mark.django_db
def test_the_sign_in_page_has_a_strict_policy():
    response = Client().get("/admin/login/")
    _assert_strict(_policy(response))
    _assert_nothing_inline(response.content.decode())


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_have_a_strict_policy_and_nothing_inline(console, operator, path):
    response = console.get(path)
    assert response.status_code == 200
    _assert_strict(_policy(response))
    _assert_nothing_inline(response.content.decode())


def test_a_book_s_console_page_has_nothing_inline(backend, console, as_editor):
    from tests.helpers import published_chapter

    chapter = published_chapter(as_editor)
    for path in (
        f"/admin/catalogue/books/{chapter['book_id']}/",
        f"/admin/catalogue/chapters/{chapter['id']}/",
    ):
        response = console.get(path)
        _assert_strict(_policy(response))
        _assert_nothing_inline(response.content.decode())
        assert "media-src" in _policy(response)


@pytest.mark.django_db
def test_the_api_docs_allow_swagger_ui_and_run_no_inline_script():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    policy = _policy(response)
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    script = Client().get(re.search(r'<script src="(/api/v1/docs\?[^"]+)"', html)[1])
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
