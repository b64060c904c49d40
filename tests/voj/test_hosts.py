"""Production accepts the region's execute-api domain (the API's id is not known before the first
deploy); of it, only this API's own host is served, as the Lambda event names it."""

from __future__ import annotations

import pytest
from django.test import Client

SUFFIX = ".execute-api.ap-northeast-2.amazonaws.com"


@pytest.fixture
def execute_api_allowed(settings):
    settings.VOJ_AWS_REGION = "ap-northeast-2"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, SUFFIX]


def _get(path: str, host: str, api_id: str | None):
    event = {"requestContext": {"apiId": api_id}} if api_id else {}
    return Client().get(path, HTTP_HOST=host, **{"lambda.event": event})


@pytest.mark.django_db
@pytest.mark.usefixtures("execute_api_allowed")
@pytest.mark.parametrize("host", [f"abc123{SUFFIX}", f"ABC123{SUFFIX}", f"abc123{SUFFIX}:443"])
def test_this_api_s_own_host_is_served(host):
    assert _get("/api/v1/health", host, "abc123").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("execute_api_allowed")
@pytest.mark.parametrize(
    ("host", "api_id"),
    [
        (f"other9{SUFFIX}", "abc123"),  # another API's host
        (f"x.abc123{SUFFIX}", "abc123"),  # a name under it
        (f"abc123{SUFFIX}", None),  # no event vouches for it (not in Lambda)
    ],
)
def test_another_api_s_host_is_refused(host, api_id):
    response = _get("/api/v1/health", host, api_id)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_host"
    page = _get("/admin/login/", host, api_id)
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_other_allowed_hosts_need_no_event():
    assert Client().get("/api/v1/health").status_code == 200
