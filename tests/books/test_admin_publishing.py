"""Publishing in the operator console, on every backend: the status on the book's page and in the
list, and the publish and unpublish buttons (POST with CSRF, a message, an audit record)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from tests.helpers import book_create, published_chapter


@pytest.fixture
def book_id(backend, as_editor) -> str:
    return published_chapter(as_editor, title="Ready one")["book_id"]


def page(console, book_id: str) -> str:
    response = console.get(f"/admin/catalogue/books/{book_id}/")
    assert response.status_code == 200
    return response.content.decode()


def audit_records(caplog) -> list:
    return [r for r in caplog.records if r.name == "voj.audit"]


def test_publish_and_unpublish_from_the_book_page(console, book_id, as_listener, caplog):
    html = page(console, book_id)
    assert "Draft (listeners do not see it)" in html
    assert f'action="/admin/catalogue/books/{book_id}/publish/"' in html
    assert "/unpublish/" not in html

    with caplog.at_level(logging.INFO, logger="voj.audit"):
        response = console.post(f"/admin/catalogue/books/{book_id}/publish/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/admin/catalogue/books/{book_id}/"
    assert "Published “Book”: listeners can see it now." in html
    assert "Published, since " in html
    assert f'action="/admin/catalogue/books/{book_id}/unpublish/"' in html
    assert as_listener.get(f"/api/v1/books/{book_id}").status_code == 200
    (record,) = audit_records(caplog)
    assert (record.action, record.target, record.result) == (
        "book.publish",
        f"book:{book_id}",
        "ok",
    )

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="voj.audit"):
        response = console.post(f"/admin/catalogue/books/{book_id}/unpublish/", follow=True)
    html = response.content.decode()
    assert "Unpublished “Book”: back to a draft, hidden from listeners." in html
    assert "Draft (listeners do not see it)" in html
    assert as_listener.get(f"/api/v1/books/{book_id}").status_code == 404
    (record,) = audit_records(caplog)
    assert (record.action, record.result) == ("book.unpublish", "ok")


def test_a_book_with_nothing_ready_is_not_published(console, backend, as_editor, caplog):
    book_id = book_create(as_editor, "Empty")["id"]
    with caplog.at_level(logging.INFO, logger="voj.audit"):
        response = console.post(f"/admin/catalogue/books/{book_id}/publish/", follow=True)
    html = response.content.decode()
    assert "The book has no ready chapter to publish yet." in html
    assert "Draft (listeners do not see it)" in html
    (record,) = audit_records(caplog)
    assert (record.action, record.result) == (
        "book.publish",
        "failed: The book has no ready chapter to publish yet.",
    )


def test_the_list_shows_each_books_status(console, book_id, as_editor):
    book_create(as_editor, "Still a draft")
    console.post(f"/admin/catalogue/books/{book_id}/publish/")
    response = console.get("/admin/catalogue/books/")
    rows = {row["book"].title: row["book"] for row in response.context["rows"]}
    assert rows["Book"].status == "published" and rows["Still a draft"].status == "draft"
    html = response.content.decode()
    assert '<th scope="col">Status</th>' in html
    assert html.count("<td>Draft</td>") == 1 and "<td>Published <span" in html


def test_the_buttons_take_only_a_post_with_csrf(operator, console, book_id):
    for action in ("publish", "unpublish"):
        assert console.get(f"/admin/catalogue/books/{book_id}/{action}/").status_code == 405
        client = Client(enforce_csrf_checks=True)
        client.force_login(operator)
        assert client.post(f"/admin/catalogue/books/{book_id}/{action}/").status_code == 403
    assert "Draft (listeners do not see it)" in page(console, book_id)


def test_an_unknown_book(console, backend):
    missing = "00000000-0000-0000-0000-000000000000"
    for action in ("publish", "unpublish"):
        assert console.post(f"/admin/catalogue/books/{missing}/{action}/").status_code == 404


@pytest.mark.django_db
def test_the_buttons_need_staff(editor, book_id):
    client = Client()
    client.force_login(editor)  # the book's owner, but not staff: the console is not theirs
    response = client.post(f"/admin/catalogue/books/{book_id}/publish/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
