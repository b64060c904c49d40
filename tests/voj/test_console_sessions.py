"""Console sessions end when they should, on every container at once: at logout, on a password
change, a deactivation or an operator's `end_sessions`. A copied session cookie opens nothing
after that. Each case on the SQL state and on DynamoDB (the security table, as in production)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from tests.conftest import User

CONSOLE = "/admin/"


def _signed_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    assert response.status_code == 302 and response["Location"] == CONSOLE
    assert client.get(CONSOLE).status_code == 200
    return client


def _copy(client: Client) -> Client:
    """Another browser, another container: only the cookie is shared."""
    thief = Client()
    thief.cookies["sessionid"] = client.cookies["sessionid"].value
    return thief


def _opens_the_console(client: Client) -> bool:
    response = client.get(CONSOLE)
    if response.status_code == 302:
        assert response["Location"].startswith("/admin/login/")
        return False
    assert response.status_code == 200
    return True


@pytest.fixture
def other_operator(db) -> User:
    return User.objects.create_superuser("operator2", password="pw-operator-2")


def test_a_copied_cookie_opens_nothing_after_logout(backend, operator):
    client = _signed_in("operator", "pw-operator-1")
    copied = _copy(client)
    assert _opens_the_console(copied)
    assert client.post("/admin/logout/").status_code == 200
    assert not _opens_the_console(copied)
    assert not _opens_the_console(client)


def test_end_sessions_ends_every_session_of_that_user_only(backend, operator, other_operator):
    laptop = _signed_in("operator", "pw-operator-1")
    phone = _signed_in("operator", "pw-operator-1")
    colleague = _signed_in("operator2", "pw-operator-2")
    call_command("end_sessions", "operator")
    assert not _opens_the_console(_copy(laptop))
    assert not _opens_the_console(phone)
    assert _opens_the_console(colleague)
    # Signing in again works, and that session is of the new generation.
    assert _opens_the_console(_signed_in("operator", "pw-operator-1"))


def test_end_sessions_names_an_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("end_sessions", "nobody")


@pytest.mark.parametrize("change", ["password", "deactivation"])
def test_an_account_change_ends_its_sessions(backend, operator, change):
    client = _signed_in("operator", "pw-operator-1")
    copied = _copy(client)
    if change == "password":
        operator.set_password("pw-operator-new")
    else:
        operator.is_active = False
    operator.save()
    assert not _opens_the_console(copied)
    assert not _opens_the_console(client)


def test_a_session_lasts_a_working_day_not_two_weeks(db, operator):
    client = Client()
    client.post("/admin/login/", {"username": "operator", "password": "pw-operator-1"})
    cookie = client.cookies["sessionid"]
    assert cookie["max-age"] == 8 * 3600
    assert cookie["httponly"]


def test_a_forged_or_unknown_session_key_is_signed_out(db, operator):
    for key in ("x" * 32, "", "../../etc", "k" * 5000):
        client = Client()
        client.cookies["sessionid"] = key
        assert not _opens_the_console(client)
