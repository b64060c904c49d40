"""Tokens die with the password, with deactivation and with logout; refresh tokens rotate.

Every endpoint is checked, stream-url included: it checks tokens without loading the user, so
account changes reach it through the security state (voj/security/accounts.py).
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.test import Client

# Login limits and revocation on both operator databases, SQLite and PostgreSQL (tests/postgres.py).
pytestmark = pytest.mark.usefixtures("operator_database")


def login(username: str = "editor", password: str = "pw-editor-1") -> dict:
    response = Client().post(
        "/api/v1/auth/login",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def me(access: str):
    return Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}")


def refresh(token: str):
    return Client().post(
        "/api/v1/auth/refresh", {"refresh": token}, content_type="application/json"
    )


def logout(token: str):
    return Client().post("/api/v1/auth/logout", {"refresh": token}, content_type="application/json")


def stream(access: str, chapter: dict):
    """The stream link by the chapter's id, whose authentication reads the account's record,
    and named with its book, which reads it alongside the book: the same answer."""
    auth = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    by_id = Client().get(f"/api/v1/audio/{chapter['id']}/stream-url", **auth)
    in_book = Client().get(
        f"/api/v1/books/{chapter['book_id']}/chapters/{chapter['id']}/stream-url", **auth
    )
    answers = [(r.status_code, r.json().get("code")) for r in (by_id, in_book)]
    assert answers[0] == answers[1], answers
    return in_book


@pytest.fixture
def chapter(backend, editor) -> dict:
    from tests.conftest import Api
    from tests.helpers import playable_chapter

    return playable_chapter(Api(editor))


def _refused(response, code: str | None = None) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["detail"] and body["code"]
    if code:
        assert body["code"] == code, body


def test_a_password_change_refuses_older_tokens(backend, editor, chapter):
    tokens = login()
    assert me(tokens["access"]).status_code == 200
    assert stream(tokens["access"], chapter).status_code == 200
    editor.set_password("a-new-password-2")
    editor.save()
    _refused(me(tokens["access"]), "password_changed")
    _refused(stream(tokens["access"], chapter), "password_changed")
    _refused(refresh(tokens["refresh"]), "password_changed")
    fresh = login(password="a-new-password-2")
    assert me(fresh["access"]).status_code == 200
    assert stream(fresh["access"], chapter).status_code == 200


def test_only_the_latest_password_s_tokens_stream(backend, editor, chapter):
    """Two changes within one access-token lifetime: the token of the middle password is
    refused as well as the first, the newest one is not."""
    first = login()
    editor.set_password("second-password-2")
    editor.save()
    second = login(password="second-password-2")
    editor.set_password("third-password-3")
    editor.save()
    third = login(password="third-password-3")
    _refused(stream(first["access"], chapter), "password_changed")
    _refused(stream(second["access"], chapter), "password_changed")
    assert stream(third["access"], chapter).status_code == 200


def test_deactivation_refuses_older_tokens(backend, editor, chapter):
    tokens = login()
    editor.is_active = False
    editor.save()
    _refused(me(tokens["access"]))
    _refused(stream(tokens["access"], chapter), "user_inactive")
    _refused(refresh(tokens["refresh"]), "no_active_account")
    editor.is_active = True  # reactivated: its tokens are good again everywhere, as on /me
    editor.save()
    assert me(tokens["access"]).status_code == 200
    assert stream(tokens["access"], chapter).status_code == 200


def test_a_deleted_user_s_tokens_are_a_401(backend, editor, chapter):
    tokens = login()
    editor.delete()
    _refused(me(tokens["access"]))
    _refused(stream(tokens["access"], chapter), "user_inactive")
    _refused(refresh(tokens["refresh"]), "no_active_account")


def test_saves_that_change_no_claim_record_nothing(backend, editor, chapter):
    """Only a change to the password, the active flag or the account's existence is recorded:
    a profile edit or a save of the same values leaves every token good and writes nothing."""
    from voj.security.accounts import account_recorded_claim

    tokens = login()
    editor.first_name = "Ada"
    editor.save()
    editor.save(update_fields=["last_login"])
    assert account_recorded_claim(editor.pk) is None
    assert stream(tokens["access"], chapter).status_code == 200
    editor.set_password("a-new-password-2")
    editor.save(update_fields=["password"])
    assert account_recorded_claim(editor.pk) not in (None, "")


def test_an_operator_s_password_change_in_the_admin_ends_stream_urls(
    backend, operator, listener, as_editor
):
    from tests.helpers import playable_chapter

    chapter = playable_chapter(as_editor)
    tokens = login("listener", "pw-listener-1")
    console = Client()
    console.force_login(operator)
    response = console.post(
        f"/admin/auth/user/{listener.pk}/password/",
        {"password1": "Changed-by-operator-9", "password2": "Changed-by-operator-9"},
    )
    assert response.status_code == 302, response.content
    _refused(stream(tokens["access"], chapter), "password_changed")
    assert stream(login("listener", "Changed-by-operator-9")["access"], chapter).status_code == 200


def test_refresh_rotates_and_uses_up_the_token(backend, editor):
    tokens = login()
    first = refresh(tokens["refresh"])
    assert first.status_code == 200
    rotated = first.json()
    assert set(rotated) == {"access", "refresh"} and rotated["refresh"] != tokens["refresh"]
    assert me(rotated["access"]).status_code == 200
    _refused(refresh(tokens["refresh"]), "token_not_valid")  # a replayed refresh token
    assert refresh(rotated["refresh"]).status_code == 200


def test_logout_revokes_the_refresh_token(backend, editor):
    tokens = login()
    response = logout(tokens["refresh"])
    assert response.status_code == 204
    _refused(refresh(tokens["refresh"]), "token_not_valid")
    assert logout(tokens["refresh"]).status_code == 204  # twice is not an error


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": "not-a-token"}, {"refresh": 5}])
def test_logout_with_a_bad_token_is_a_json_4xx(backend, body):
    response = Client().post("/api/v1/auth/logout", body, content_type="application/json")
    assert response.status_code in (400, 401), response.content
    assert response.json()["code"]


def test_an_access_token_is_not_a_refresh_token(backend, editor):
    tokens = login()
    _refused(logout(tokens["access"]), "token_not_valid")
    _refused(refresh(tokens["access"]), "token_not_valid")


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_have_one_winner(editor):
    tokens = login()
    barrier = threading.Barrier(4)
    statuses = []

    def run():
        barrier.wait()
        statuses.append(refresh(tokens["refresh"]).status_code)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401, 401, 401]


def test_a_save_of_some_fields_records_the_row_it_leaves_not_a_stale_instance(
    backend, editor, chapter
):
    """An instance loaded before a change saves only is_active: the record must hold the
    password the row has, not the one that instance remembers."""
    tokens = login()
    stale = User.objects.get(pk=editor.pk)
    editor.set_password("a-new-password-2")
    editor.save()
    editor.is_active = False
    editor.save()
    stale.is_active = True
    stale.save(update_fields=["is_active"])
    _refused(stream(tokens["access"], chapter), "password_changed")
    assert stream(login(password="a-new-password-2")["access"], chapter).status_code == 200


def test_changes_through_a_proxy_or_a_fresh_instance_are_recorded(backend, editor, chapter):
    from django.test.utils import isolate_apps

    tokens = login()
    with isolate_apps("voj"):  # a proxy of its own, kept out of the project's models

        class ListenerProxy(User):  # a proxy sends its own class as the signals' sender
            class Meta:
                proxy = True
                app_label = "voj"

    through_proxy = ListenerProxy.objects.get(pk=editor.pk)
    through_proxy.set_password("a-new-password-2")
    through_proxy.save()
    _refused(stream(tokens["access"], chapter), "password_changed")
    tokens = login(password="a-new-password-2")
    # An instance built by hand with an existing id: Django updates the row.
    fresh = User(pk=editor.pk, username="editor", password=User.objects.get(pk=editor.pk).password)
    fresh.is_active = False
    fresh.save()
    _refused(stream(tokens["access"], chapter), "user_inactive")


@pytest.mark.django_db(transaction=True)
def test_the_committed_row_s_claim_is_recorded_after_the_commit(editor):
    """Two changes racing can write their records in the other order than they commit; the
    record is written again from the committed row."""
    from django.db import transaction

    from voj.security.accounts import ENDED, account_claim, account_recorded_claim

    with transaction.atomic():
        editor.set_password("a-new-password-2")
        editor.save()
        # a racing deactivation's record, written after this save's but committed before it
        from voj.security.accounts import account_change_record

        account_change_record(user_id=editor.pk, claim=ENDED)
    assert account_recorded_claim(editor.pk) == account_claim(User.objects.get(pk=editor.pk))


def test_a_changed_account_is_refused_before_anything_of_the_book_is_told(backend, editor, chapter):
    """Named with its book, the account's record is read alongside the book's head and the
    chapter, and checked first: a refused token is told nothing of the book, found or not."""
    tokens = login()
    editor.set_password("a-new-password-2")
    editor.save()
    for named in (
        chapter,
        {**chapter, "id": chapter["book_id"]},
        {"book_id": "00000000-0000-4000-8000-000000000000", "id": chapter["id"]},
    ):
        _refused(stream(tokens["access"], named), "password_changed")


def test_a_changed_account_reports_no_progress(backend, editor, chapter):
    """A progress report reads the token's account record with the book's head and the
    chapter: a token from before the change is refused, whatever the report or the book says,
    and so are reading and forgetting the progress."""
    from datetime import UTC, datetime

    tokens = login()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}
    report = {
        "chapter_id": chapter["id"],
        "position_seconds": 1.0,
        "updated_at": datetime.now(UTC).isoformat(),
        "device": "phone",
    }
    url = f"/api/v1/me/progress/{chapter['book_id']}"

    def put(book_url: str, body) -> object:
        return Client().put(book_url, body, content_type="application/json", **auth)

    assert put(url, report).status_code == 200
    editor.set_password("a-new-password-2")
    editor.save()
    _refused(put(url, report), "password_changed")
    _refused(put(url, {**report, "position_seconds": "far"}), "password_changed")
    _refused(put(url, "{not json"), "password_changed")
    _refused(put(url, {**report, "position_seconds": 99999.0}), "password_changed")
    _refused(put(url, {**report, "updated_at": "2099-01-01T00:00:00Z"}), "password_changed")
    _refused(put(url, {**report, "chapter_id": chapter["book_id"]}), "password_changed")
    _refused(put("/api/v1/me/progress/00000000-0000-4000-8000-000000000000", report))
    _refused(Client().get(url, **auth), "password_changed")
    _refused(Client().delete(url, **auth), "password_changed")
    fresh = {"HTTP_AUTHORIZATION": f"Bearer {login(password='a-new-password-2')['access']}"}
    assert Client().get(url, **fresh).json()["latest"]["position_seconds"] == 1.0
