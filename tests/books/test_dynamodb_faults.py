"""DynamoDB throttling: botocore's retries absorb it, and when they give up the API says 503."""

from __future__ import annotations

import pytest
from moto.core.botocore_stubber import MockRawResponse

from tests.helpers import book_create
from voj.aws import aws_client


class Throttle:
    """Answers the first ``times`` DynamoDB requests with ThrottlingException, before they
    reach moto; botocore's retry handler sees a real throttling response."""

    BODY = (
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException",'
        b'"message":"Rate of requests exceeds the allowed throughput."}'
    )

    def __init__(self, client, times: int) -> None:
        self.left = times
        self.sent = 0
        client.meta.events.register_first("before-send.dynamodb.*", self)

    def __call__(self, request, **kwargs):
        from botocore.awsrequest import AWSResponse

        self.sent += 1
        if self.left <= 0:
            return None
        self.left -= 1
        return AWSResponse(
            request.url,
            400,
            {"x-amzn-ErrorType": "ThrottlingException"},
            MockRawResponse(self.BODY),
        )


@pytest.fixture
def no_backoff(monkeypatch):
    """Takes the waiting out of retries (backoff and adaptive mode's token bucket); which
    requests are retried, and how often, is still botocore's decision."""
    from botocore.retries import adaptive, standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    monkeypatch.setattr(
        adaptive.ClientRateLimiter, "on_sending_request", lambda self, request, **kw: None
    )


def test_throttling_is_retried(no_backoff, dynamodb_tables, as_editor):
    book = book_create(as_editor)
    throttle = Throttle(aws_client("dynamodb"), times=2)
    response = as_editor.get(f"/api/v1/books/{book['id']}")
    assert response.status_code == 200
    assert throttle.sent == 3


def test_persistent_throttling_is_503(no_backoff, dynamodb_tables, as_editor):
    book = book_create(as_editor)
    throttle = Throttle(aws_client("dynamodb"), times=100)
    response = as_editor.get(f"/api/v1/books/{book['id']}")
    assert response.status_code == 503
    assert response.json()["code"] == "repository_busy"
    assert throttle.sent == 5  # adaptive mode, five attempts in all
    listing = as_editor.get("/api/v1/books")
    assert listing.status_code == 503


def test_dynamodb_unreachable_is_503(db, settings, as_editor, monkeypatch, no_backoff):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.VOJ_DATA_BACKEND = "dynamodb"
    settings.VOJ_AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    response = as_editor.get("/api/v1/books")
    assert response.status_code == 503
    assert response.json()["code"] == "repository_unavailable"
