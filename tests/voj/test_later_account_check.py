"""The account check a view makes itself (voj/security/authentication.py): a view that answers
a success without it is a bug that fails, not a revoked token that streams."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from voj.security.authentication import AccountCheckedInView


class Forgetful(AccountCheckedInView, APIView):
    def get(self, request):
        return Response({"ok": True})


class Careful(AccountCheckedInView, APIView):
    def get(self, request):
        self.account_check(request).verify()
        return Response({"ok": True})


def _get(view, user) -> Response:
    token = AccessToken.for_user(user)
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    return view.as_view()(request)


def test_a_success_without_the_check_fails(db, listener):
    with pytest.raises(ImproperlyConfigured):
        _get(Forgetful, listener)


def test_the_check_made_answers(db, listener):
    assert _get(Careful, listener).status_code == 200


def test_the_check_refuses_a_token_from_before_a_password_change(db, listener):
    token = AccessToken.for_user(listener)
    listener.set_password("a-new-password-2")
    listener.save()
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    response = Careful.as_view()(request)
    assert (response.status_code, response.data["code"]) == (401, "password_changed")
