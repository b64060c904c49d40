"""The operator console's catalogue pages, on both data backends."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from streaming.stores import get_object_store
from tests.conftest import fixture_bytes
from tests.helpers import book_create, chapter_create, chapter_url, published_chapter


@pytest.fixture
def catalogue(backend, as_editor):
    """A good chapter, a failed one and a pending one, in one book."""
    good = published_chapter(as_editor, title="Good one")
    book = {"id": good["book_id"]}
    bad = chapter_create(as_editor, book, size=len(fixture_bytes("tone.mp3")), title="Bad one")
    as_editor.upload(bad["upload"], fixture_bytes("tone.mp3"))
    failed = as_editor.post(chapter_url(bad["chapter"]) + "/complete").json()
    pending = chapter_create(as_editor, book, size=10, title="Pending one")["chapter"]
    return {"good": good, "failed": failed, "pending": pending, "book_id": good["book_id"]}


CONSOLE_URLS = [
    "/admin/catalogue/books/",
    "/admin/catalogue/chapters/",
    "/admin/cdn/",
    "/admin/cdn/new/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", CONSOLE_URLS)
def test_console_needs_staff(url, editor):
    assert Client().get(url).status_code == 302
    client = Client()
    client.force_login(editor)  # signed in, but not staff
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_index_links_to_the_console(console, catalogue):
    page = console.get("/admin/").content.decode()
    assert 'href="/admin/catalogue/books/"' in page
    assert 'href="/admin/catalogue/chapters/"' in page
    assert 'href="/admin/cdn/"' in page


def test_failed_chapter_in_two_clicks(console, catalogue):
    index = console.get("/admin/").content.decode()
    assert 'href="/admin/catalogue/chapters/"' in index  # click 1: chapters, failed by default
    failed_list = console.get("/admin/catalogue/chapters/").content.decode()
    chapter_link = f'href="/admin/catalogue/chapters/{catalogue["failed"]["id"]}/"'
    assert chapter_link in failed_list
    assert catalogue["good"]["id"] not in failed_list
    page = console.get(f"/admin/catalogue/chapters/{catalogue['failed']['id']}/")  # click 2
    assert "ftyp" in page.content.decode()  # why it failed
    assert "<audio" not in page.content.decode()


def test_book_list_search_and_owner(console, catalogue, as_editor):
    book_create(as_editor, "Another title")
    page = console.get("/admin/catalogue/books/").content.decode()
    assert "Another title" in page and "editor" in page
    found = console.get("/admin/catalogue/books/?q=another").content.decode()
    assert (
        "Another title" in found and "/admin/catalogue/books/" + catalogue["book_id"] not in found
    )


def test_console_search_is_the_apis_with_staff_visibility(console, backend, as_editor):
    """Drafts included (staff see every book), Hangul by substring, authors too, titles first."""
    as_editor.post("/api/v1/books", {"title": "어린 왕자", "author": "생텍쥐페리"})
    as_editor.post("/api/v1/books", {"title": "Notes", "author": "Prince Rogers"})
    as_editor.post("/api/v1/books", {"title": "The Little Prince", "author": "Saint-Exupéry"})

    def found(q: str) -> list[str]:
        page = console.get("/admin/catalogue/books/", {"q": q})
        assert page.status_code == 200
        return [row["book"].title for row in page.context["rows"]]

    assert found("왕자") == ["어린 왕자"]
    assert found("PRIN") == ["The Little Prince", "Notes"]
    assert found("%") == [] and found("린왕") == []
    first = console.get("/admin/catalogue/books/", {"q": "prince"}).context
    assert first["query"] == "prince"


def test_book_list_pages_by_cursor(console, backend, as_editor):
    for n in range(27):
        book_create(as_editor, f"Book {n:02d}")
    first = console.get("/admin/catalogue/books/")
    assert first.context["next_cursor"]
    second = console.get("/admin/catalogue/books/", {"cursor": first.context["next_cursor"]})
    titles = [row["book"].title for row in first.context["rows"] + second.context["rows"]]
    assert len(titles) == 27 and len(set(titles)) == 27
    assert console.get("/admin/catalogue/books/?cursor=forged").status_code == 302


def test_book_page_lists_chapters_in_order(console, catalogue):
    page = console.get(f"/admin/catalogue/books/{catalogue['book_id']}/")
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [r["chapter"].title for r in rows] == ["Good one", "Bad one", "Pending one"]
    html = page.content.decode()
    assert "voj-status-failed" in html and "voj-status-ready" in html
    assert "0:02" in html  # duration of the good chapter


def test_unknown_ids_are_404(console, backend):
    missing = "00000000-0000-0000-0000-000000000000"
    assert console.get(f"/admin/catalogue/books/{missing}/").status_code == 404
    assert console.get(f"/admin/catalogue/chapters/{missing}/").status_code == 404
    assert console.get("/admin/catalogue/chapters/?status=bogus").status_code == 404


def test_preview_player_has_a_fresh_stream_url(console, catalogue):
    page = console.get(f"/admin/catalogue/chapters/{catalogue['good']['id']}/")
    html = page.content.decode()
    assert '<audio controls preload="metadata" src="http://testserver/stream/media/books/' in html
    assert "signature=" in html


def test_chapter_check(console, catalogue, caplog):
    url = f"/admin/catalogue/chapters/{catalogue['good']['id']}/check/"
    assert console.get(url).status_code == 405
    with caplog.at_level(logging.INFO, logger="voj.audit"):
        page = console.post(url)
    assert page.status_code == 200
    verdict = page.context["verdict"]
    assert verdict.ok and verdict.exists and verdict.faststart is True
    assert "Check passed" in page.content.decode()
    record = next(r for r in caplog.records if r.name == "voj.audit")
    assert (record.actor, record.action, record.result) == ("operator", "chapter.check", "ok")
    assert record.target == f"chapter:{catalogue['good']['id']}"
    assert record.at


def test_check_finds_a_missing_or_altered_object(console, catalogue):
    good = catalogue["good"]
    key = console.get(f"/admin/catalogue/chapters/{good['id']}/").context["chapter"].object_key
    store = get_object_store()
    store.delete(key)
    verdict = console.post(f"/admin/catalogue/chapters/{good['id']}/check/").context["verdict"]
    assert not verdict.ok and not verdict.exists and "no object" in verdict.reason
    assert verdict.checked


def test_check_reports_the_state_of_a_pending_or_rejected_chapter(console, catalogue, caplog):
    """Nothing to examine: a pending chapter has no object yet, a rejected upload is deleted by
    design. The check says so instead of "object missing"."""
    page = console.post(f"/admin/catalogue/chapters/{catalogue['pending']['id']}/check/")
    verdict = page.context["verdict"]
    assert not verdict.checked and verdict.reason == "not uploaded yet"
    html = page.content.decode()
    assert "Not checked:</strong> not uploaded yet" in html
    assert "missing" not in html and "Check failed" not in html

    with caplog.at_level(logging.INFO, logger="voj.audit"):
        page = console.post(f"/admin/catalogue/chapters/{catalogue['failed']['id']}/check/")
    verdict = page.context["verdict"]
    assert not verdict.checked
    assert verdict.reason.startswith("the upload was rejected: ")
    assert catalogue["failed"]["failure_reason"] in verdict.reason
    assert "missing" not in page.content.decode()
    record = [r for r in caplog.records if r.name == "voj.audit"][-1]
    assert record.result.startswith("not checked: the upload was rejected")


def test_check_every_chapter_of_a_book(console, catalogue):
    page = console.post(f"/admin/catalogue/books/{catalogue['book_id']}/check/")
    assert page.status_code == 200
    verdicts = {r["chapter"].title: r["verdict"] for r in page.context["rows"]}
    assert verdicts["Good one"].ok
    assert not verdicts["Bad one"].checked and not verdicts["Pending one"].checked
    html = page.content.decode()
    # Pending and rejected chapters are counted apart, never as failures.
    assert "All 1 chapters passed the check. 2 not checked" in html
    assert "not checked: not uploaded yet" in html
    assert "not checked: the upload was rejected" in html


def test_check_every_chapter_counts_a_real_failure(console, catalogue):
    page = console.get(f"/admin/catalogue/chapters/{catalogue['good']['id']}/")
    get_object_store().delete(page.context["chapter"].object_key)
    page = console.post(f"/admin/catalogue/books/{catalogue['book_id']}/check/")
    assert "1 of 1 chapters failed the check. 2 not checked" in page.content.decode()


def test_check_every_chapter_with_nothing_published(console, backend, as_editor):
    book = book_create(as_editor, "Unpublished")
    chapter_create(as_editor, book, size=10, title="Pending one")
    page = console.post(f"/admin/catalogue/books/{book['id']}/check/").content.decode()
    assert "No chapter has published audio to check. 1 not checked" in page
    assert "passed the check" not in page and "failed the check" not in page


def test_status_list_names_the_book_and_reads_well(console, catalogue, as_editor):
    page = console.get("/admin/catalogue/chapters/?status=pending_upload").content.decode()
    book_link = f'<a href="/admin/catalogue/books/{catalogue["book_id"]}/">Book</a>'
    assert book_link in page  # the book's title, not a generic "book"
    assert ">Pending upload</span>" in page and ">pending_upload<" not in page
    assert "<strong>Pending upload</strong>" in page and ">Failed</a>" in page
    assert "<title>Chapters: Pending upload | voj</title>" in page
    empty = console.get("/admin/catalogue/chapters/?status=processing").content.decode()
    assert "No chapters are processing." in empty


def test_delete_book_is_a_danger_button(console, catalogue):
    html = console.get(f"/admin/catalogue/books/{catalogue['book_id']}/").content.decode()
    # Django admin's own red delete button: a deletelink inside the submit row.
    row = html.split('<div class="submit-row voj-actions">', 1)[1].split("</div>", 1)[0]
    assert 'class="deletelink"' in row and "Delete book" in row
    assert 'class="button deletelink"' not in html


BREADCRUMBS = {
    "/admin/catalogue/books/": "Home / Catalogue / Books",
    "/admin/catalogue/books/{book}/": "Home / Catalogue / Books / Book",
    "/admin/catalogue/books/{book}/delete/": "Home / Catalogue / Books / Book / Delete",
    "/admin/catalogue/chapters/{good}/": "Home / Catalogue / Books / Book / Chapter 1",
    "/admin/catalogue/chapters/?status=ready": "Home / Catalogue / Chapters by status / Ready",
}


def test_breadcrumbs_agree_between_pages(console, catalogue):
    import re
    from html import unescape

    for url, trail in BREADCRUMBS.items():
        url = url.format(book=catalogue["book_id"], good=catalogue["good"]["id"])
        html = console.get(url).content.decode()
        crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S).group(1)
        text = " ".join(unescape(re.sub(r"<[^>]+>", "", crumbs)).split())
        assert text.replace("\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}", "/") == trail, url
        assert 'href="/admin/catalogue/books/">Catalogue</a>' in crumbs


def test_csrf_is_enforced(operator, catalogue):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(f"/admin/catalogue/books/{catalogue['book_id']}/check/").status_code == 403
    assert client.post(f"/admin/catalogue/books/{catalogue['book_id']}/delete/").status_code == 403


def test_delete_book_with_confirmation(console, catalogue, caplog):
    url = f"/admin/catalogue/books/{catalogue['book_id']}/delete/"
    confirm = console.get(url)
    assert confirm.status_code == 200 and "Yes, delete it" in confirm.content.decode()
    with caplog.at_level(logging.INFO, logger="voj.audit"):
        response = console.post(url)
    assert response.status_code == 302
    assert console.get(f"/admin/catalogue/books/{catalogue['book_id']}/").status_code == 404
    record = next(r for r in caplog.records if r.name == "voj.audit")
    assert (record.action, record.result) == ("book.delete", "ok")


def test_check_compares_the_object_with_the_one_published(console, catalogue, tmp_path):
    """Playable audio put under the published key afterwards is still not what was checked."""
    good = catalogue["good"]
    chapter = console.get(f"/admin/catalogue/chapters/{good['id']}/").context["chapter"]
    assert chapter.object_etag
    other = tmp_path / "other.m4a"
    other.write_bytes(fixture_bytes("tone-faststart.m4a"))  # the same bytes, another object
    get_object_store().put_file(
        chapter.object_key, str(other), content_type="audio/mp4", metadata={}
    )
    verdict = console.post(f"/admin/catalogue/chapters/{good['id']}/check/").context["verdict"]
    assert not verdict.ok and verdict.exists
    assert "not the one published" in verdict.reason and chapter.object_etag in verdict.reason
