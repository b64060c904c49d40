"""Login throttling through the API login and the operator console's sign-in, on both kinds
of shared state (SQL, DynamoDB on moto)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from voj.security.throttle import client_address

# Login limits and revocation on both operator databases, SQLite and PostgreSQL (tests/postgres.py).
pytestmark = pytest.mark.usefixtures("operator_database")

LOGIN = "/api/v1/auth/login"


def api_login(username: str, password: str, address: str = "198.51.100.1", **headers):
    return Client(REMOTE_ADDR=address).post(
        LOGIN,
        {"username": username, "password": password},
        content_type="application/json",
        **headers,
    )


def admin_login(username: str, password: str, address: str = "198.51.100.1"):
    return Client(REMOTE_ADDR=address).post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )


def _refused(response) -> int:
    assert response.status_code == 429, response.content[:300]
    assert response.json()["code"] == "throttled"
    wait = int(response["Retry-After"])
    assert 0 < wait <= 15 * 60
    return wait


def test_the_eleventh_wrong_password_is_refused_even_with_the_right_one(backend, editor):
    for _ in range(10):
        assert api_login("editor", "wrong").status_code == 401
    _refused(api_login("editor", "wrong"))
    _refused(api_login("editor", "pw-editor-1"))
    # Another account from the same address is not locked by it.
    assert api_login("listener-unknown", "wrong").status_code == 401


def test_an_unknown_username_is_limited_the_same_way(backend):
    for _ in range(10):
        assert api_login("nobody", "wrong").status_code == 401
    _refused(api_login("nobody", "wrong"))


def test_a_success_clears_the_username_count(backend, editor):
    for _ in range(9):
        assert api_login("editor", "wrong").status_code == 401
    assert api_login("editor", "pw-editor-1").status_code == 200
    for _ in range(10):
        assert api_login("editor", "wrong").status_code == 401
    _refused(api_login("editor", "wrong"))


def test_fifty_failures_from_one_address_lock_that_address(backend, editor):
    for i in range(50):
        assert api_login(f"guess-{i}", "wrong", address="203.0.113.9").status_code == 401
    _refused(api_login("editor", "pw-editor-1", address="203.0.113.9"))
    assert api_login("editor", "pw-editor-1", address="203.0.113.10").status_code == 200


def test_x_forwarded_for_does_not_change_the_address_counted(backend):
    for i in range(50):
        response = api_login(
            f"guess-{i}", "wrong", address="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        )
        assert response.status_code == 401
    _refused(api_login("someone", "wrong", address="203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.9.9"))


def test_ipv6_clients_are_counted_per_64(backend):
    for i in range(50):
        assert api_login(f"g{i}", "wrong", address=f"2001:db8:1:2::{i + 1:x}").status_code == 401
    _refused(api_login("g", "wrong", address="2001:db8:1:2:ffff::1"))
    assert api_login("g", "wrong", address="2001:db8:1:3::1").status_code == 401


def test_the_count_expires_fifteen_minutes_after_the_last_failure(backend, editor, monkeypatch):
    import time
    from datetime import timedelta
    from types import SimpleNamespace

    from django.utils import timezone

    def later(seconds):
        monkeypatch.setattr(
            "voj.security.dynamodb.time", SimpleNamespace(time=lambda: time.time() + seconds)
        )
        monkeypatch.setattr(
            "voj.security.state.timezone",
            SimpleNamespace(now=lambda: timezone.now() + timedelta(seconds=seconds)),
        )

    for _ in range(10):
        assert api_login("editor", "wrong").status_code == 401
    later(14 * 60)
    assert _refused(api_login("editor", "pw-editor-1")) <= 60
    later(15 * 60 + 2)
    assert api_login("editor", "pw-editor-1").status_code == 200


def test_the_admin_sign_in_is_limited_with_the_api(backend, operator):
    for _ in range(5):
        assert api_login("operator", "wrong").status_code == 401
    for _ in range(5):
        page = admin_login("operator", "wrong")
        assert page.status_code == 200 and b"errornote" in page.content
    for password in ("wrong", "pw-operator-1"):
        page = admin_login("operator", password)
        assert page.status_code == 429
        assert 0 < int(page["Retry-After"]) <= 15 * 60
        assert b"Too many failed sign-ins" in page.content
    _refused(api_login("operator", "pw-operator-1"))


def test_unlock_login_clears_a_locked_account(backend, editor, capsys):
    for _ in range(10):
        api_login("editor", "wrong")
    _refused(api_login("editor", "pw-editor-1"))
    call_command("unlock_login", "editor")
    assert "10 failures cleared" in capsys.readouterr().out
    assert api_login("editor", "pw-editor-1").status_code == 200


def test_unlock_login_clears_an_address(backend, editor, capsys):
    for i in range(50):
        api_login(f"guess-{i}", "wrong", address="203.0.113.9")
    call_command("unlock_login", "--address", "203.0.113.9")
    assert "address 203.0.113.9: 50 failures cleared" in capsys.readouterr().out
    assert api_login("editor", "pw-editor-1", address="203.0.113.9").status_code == 200


def test_client_address_on_lambda_is_the_source_api_gateway_saw(rf):
    # Zappa sets REMOTE_ADDR from X-Forwarded-For; the event's requestContext is API Gateway's.
    request = rf.post(LOGIN, REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="10.1.1.1, 1.2.3.4")
    request.META["lambda.event"] = {"requestContext": {"identity": {"sourceIp": "192.0.2.44"}}}
    assert client_address(request) == "192.0.2.44"
    request.META["lambda.event"] = {"requestContext": {"http": {"sourceIp": "192.0.2.45"}}}
    assert client_address(request) == "192.0.2.45"
    request.META["lambda.event"] = {}  # invoked without API Gateway: no trusted address
    assert client_address(request) == "unknown"
    assert client_address(rf.post(LOGIN, REMOTE_ADDR="192.0.2.9")) == "192.0.2.9"


@pytest.mark.django_db
def test_a_known_and_an_unknown_username_cost_one_hash_each(settings, editor, monkeypatch):
    """No timing oracle: ModelBackend hashes the given password for an unknown username too.
    Counted, not timed: each path runs the configured hasher exactly once."""
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()
    editor.set_password("pw-editor-1")
    editor.save()
    runs = []
    original = hashers.PBKDF2PasswordHasher.encode

    def counted(self, password, salt, iterations=None):
        runs.append(iterations or self.iterations)
        return original(self, password, salt, iterations)

    monkeypatch.setattr(hashers.PBKDF2PasswordHasher, "encode", counted)
    try:
        assert api_login("editor", "wrong").status_code == 401
        known = list(runs)
        runs.clear()
        assert api_login("no-such-user", "wrong").status_code == 401
        assert runs == known == [hashers.PBKDF2PasswordHasher.iterations]
    finally:
        hashers.get_hashers.cache_clear()
        hashers.get_hashers_by_algorithm.cache_clear()
