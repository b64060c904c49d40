"""The account check a view makes itself (voj/security/authentication.py): the handler named
for it checks alongside its first read, every other method before its handler, a success
answered without the check fails, and a refused token leaves the request anonymous."""

from __future__ import annotations

import logging

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from tests.helpers import chapter_url, playable_chapter
from voj.security.authentication import AccountCheckedInView


class Forgetful(AccountCheckedInView, APIView):
    account_checked_by = frozenset({"GET"})

    def get(self, request):
        return Response({"ok": True})


class Careful(AccountCheckedInView, APIView):
    account_checked_by = frozenset({"GET"})

    def get(self, request):
        self.account_check(request).verify()
        return Response({"ok": True})

    def delete(self, request):  # not named: checked before it runs
        return Response(status=204)


urlpatterns = [path("forgetful", Forgetful.as_view()), path("careful", Careful.as_view())]


@pytest.fixture
def client(settings) -> APIClient:
    settings.ROOT_URLCONF = __name__
    return APIClient()


def _as(client: APIClient, token: AccessToken) -> APIClient:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_success_without_the_check_fails(db, listener, client):
    with pytest.raises(RuntimeError, match="account check"):
        _as(client, AccessToken.for_user(listener)).get("/forgetful")


@pytest.mark.parametrize(
    ("method", "status"), [("get", 200), ("head", 200), ("delete", 204), ("options", 200)]
)
def test_every_method_answers_after_the_check(db, listener, client, method, status):
    response = getattr(_as(client, AccessToken.for_user(listener)), method)("/careful")
    assert response.status_code == status


@pytest.mark.parametrize("method", ["get", "head", "delete", "options", "post", "put"])
def test_every_method_refuses_a_token_from_before_a_password_change(db, listener, client, method):
    token = AccessToken.for_user(listener)
    listener.set_password("a-new-password-2")
    listener.save()
    response = getattr(_as(client, token), method)("/careful")
    assert response.status_code == 401
    if method != "head":
        assert response.json()["code"] == "password_changed"


def test_a_refused_token_is_logged_as_no_one(backend, as_editor, listener, caplog):
    chapter = playable_chapter(as_editor)
    token = AccessToken.for_user(listener)
    listener.set_password("a-new-password-2")
    listener.save()
    client = _as(APIClient(), token)
    for url in (chapter_url(chapter) + "/stream-url", f"/api/v1/me/progress/{chapter['book_id']}"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="voj.requests"):
            assert client.get(url).status_code == 401
        (record,) = [r for r in caplog.records if r.name == "voj.requests"]
        assert record.user is None, url
