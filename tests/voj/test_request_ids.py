"""A request id ties a response to its log line. A client's own X-Request-ID is kept only when
it is short and printable; otherwise the request gets one of voj's, and the request is served
as if none had been sent (a refused id must not fail a request whose view already ran)."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

GENERATED = re.compile(r"[0-9a-f]{32}")


def _post_book(as_editor, request_id: str):
    return Client().post(
        "/api/v1/books",
        {"title": "Numbered", "author": "A"},
        content_type="application/json",
        HTTP_X_REQUEST_ID=request_id,
        **as_editor.headers,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_id",
    [
        "abc\r\n folded",
        "abc\n",
        "tab\there",
        "nul\x00",
        "bell\x07",
        "x" * 60_000,
        "x" * 129,
        "with space",
        "caf\u00e9",
        "\u202eevil",
    ],
    ids=["folded", "newline", "tab", "nul", "bell", "60kb", "129", "space", "latin1", "bidi"],
)
def test_an_unusable_request_id_is_replaced_and_the_request_served_once(
    as_editor, caplog, request_id
):
    with caplog.at_level(logging.INFO, logger="voj.requests"):
        response = _post_book(as_editor, request_id)
    assert response.status_code == 201, response.content[:300]
    assert GENERATED.fullmatch(response["X-Request-ID"])
    logged = [r.request_id for r in caplog.records if r.name == "voj.requests"]
    assert logged == [response["X-Request-ID"]]
    books = as_editor.get("/api/v1/books").json()["results"]
    assert [book["title"] for book in books] == ["Numbered"]


@pytest.mark.django_db
@pytest.mark.parametrize("request_id", ["req-1", "0f8fad5b-d9cb-469f-a165-70867728950e", "~" * 128])
def test_a_short_printable_request_id_is_kept(as_editor, caplog, request_id):
    with caplog.at_level(logging.INFO, logger="voj.requests"):
        response = _post_book(as_editor, request_id)
    assert response.status_code == 201
    assert response["X-Request-ID"] == request_id
    assert [r.request_id for r in caplog.records if r.name == "voj.requests"] == [request_id]


@pytest.mark.django_db
def test_without_a_request_id_one_is_made():
    response = Client().get("/api/v1/health")
    assert GENERATED.fullmatch(response["X-Request-ID"])
