"""Deleting what is not one's own needs Django's delete permission: the owner deletes their
book and its chapters, and so does staff that holds the permission (a superuser, an operator
group); a bare staff flag lets one see and change any book, not destroy it. Through the API and
the console alike."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from tests.conftest import Api, User, console_session_store_settled
from tests.helpers import book_create, published_chapter


def _staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="x", is_staff=True)
    if codenames:
        group = Group.objects.create(name=f"{username} operators")
        group.permissions.add(*Permission.objects.filter(codename__in=codenames))
        user.groups.add(group)
    return user


@pytest.fixture
def bare_staff(db) -> User:
    return _staff("support")


@pytest.fixture
def deleting_staff(db) -> User:
    return _staff("janitor", "delete_bookrecord", "delete_chapterrecord")


def test_bare_staff_cannot_delete_another_editor_s_book_or_chapter(backend, as_editor, bare_staff):
    chapter = published_chapter(as_editor)
    book_url = f"/api/v1/books/{chapter['book_id']}"
    staff = Api(bare_staff)
    assert staff.get(book_url).status_code == 200  # staff sees it
    assert staff.patch(book_url, {"title": "Renamed"}).status_code == 200  # and changes it
    refused = staff.delete(book_url)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    chapter_url = f"{book_url}/chapters/{chapter['id']}"
    assert staff.delete(chapter_url).status_code == 403
    assert as_editor.get(chapter_url).status_code == 200
    assert as_editor.get(book_url).json()["chapter_count"] == 1


def test_staff_with_the_permission_and_superusers_delete(
    backend, as_editor, deleting_staff, operator
):
    first, second = published_chapter(as_editor), published_chapter(as_editor)
    staff = Api(deleting_staff)
    chapter_url = f"/api/v1/books/{first['book_id']}/chapters/{first['id']}"
    assert staff.delete(chapter_url).status_code == 204
    assert staff.delete(f"/api/v1/books/{first['book_id']}").status_code == 204
    assert Api(operator).delete(f"/api/v1/books/{second['book_id']}").status_code == 204
    assert as_editor.get(f"/api/v1/books/{first['book_id']}").status_code == 404
    assert as_editor.get(f"/api/v1/books/{second['book_id']}").status_code == 404


def test_the_owner_deletes_without_any_permission(backend, as_editor):
    book = book_create(as_editor)
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204


def _console(request, user: User) -> Client:
    console_session_store_settled(request)
    client = Client()
    client.force_login(user)
    return client


def test_the_console_offers_delete_only_with_the_permission(
    request, backend, as_editor, bare_staff, deleting_staff
):
    book = book_create(as_editor)
    page_url = f"/admin/catalogue/books/{book['id']}/"
    delete_url = f"{page_url}delete/"
    bare = _console(request, bare_staff)
    page = bare.get(page_url)
    assert page.status_code == 200 and delete_url.encode() not in page.content
    assert bare.get(delete_url).status_code == 403
    assert bare.post(delete_url).status_code == 403
    assert as_editor.get(f"/api/v1/books/{book['id']}").status_code == 200

    allowed = _console(request, deleting_staff)
    assert delete_url.encode() in allowed.get(page_url).content
    assert allowed.post(delete_url).status_code == 302
    assert as_editor.get(f"/api/v1/books/{book['id']}").status_code == 404
