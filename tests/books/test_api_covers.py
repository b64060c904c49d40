"""A book's cover through the HTTP API on the local store: grant, upload, completion, the
unsigned cover URL, replacement and removal, and every upload refused."""

from __future__ import annotations

import io
import time
from urllib.parse import urlsplit

import pytest
from django.test import Client
from PIL import Image

from streaming.stores import get_object_store
from tests.helpers import book_create, book_publish, published_chapter
from tests.images import (
    CAMERA,
    image_bytes,
    jpeg_with_gps,
    noisy_png,
    png_declaring,
    transparent_png,
    zeros_png,
)

IMMUTABLE = "public, max-age=31536000, immutable"


def cover_grant(api, book_id: str, content: bytes, **fields):
    payload = {
        "filename": "cover.jpg",
        "content_type": "image/jpeg",
        "size_bytes": len(content),
        **fields,
    }
    return api.post(f"/api/v1/books/{book_id}/cover", payload)


def cover_upload(api, book_id: str, content: bytes, **fields):
    """Grant, upload through it and complete: the completion's answer."""
    granted = cover_grant(api, book_id, content, **fields)
    assert granted.status_code == 201, granted.content
    assert api.upload(granted.json()["upload"], content, "cover").status_code == 204
    return api.post(f"/api/v1/books/{book_id}/cover/complete")


def fetch(url: str, **headers):
    """The cover as a browser fetches it: no Authorization header."""
    return Client().get(url.removeprefix("http://testserver"), **headers)


def served(url: str) -> bytes:
    response = fetch(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_a_cover_is_checked_and_served_unsigned(backend, as_editor):
    book = book_create(as_editor)
    assert book["cover_url"] is None
    done = cover_upload(as_editor, book["id"], image_bytes(900, 1200))
    assert done.status_code == 200, done.content
    url = done.json()["cover_url"]
    assert url.startswith(f"http://testserver/covers/books/{book['id']}/")
    assert url.endswith(".jpg")
    response = fetch(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == IMMUTABLE
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert (image.format, image.size, image.mode) == ("JPEG", (450, 600), "RGB")
    assert fetch(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    # Everywhere the book is given: by id, in lists.
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["cover_url"] == url
    listed = as_editor.get("/api/v1/books").json()["results"]
    assert [b["cover_url"] for b in listed] == [url]


def test_a_new_cover_is_a_new_url_and_the_old_one_is_deleted(backend, as_editor):
    book = book_create(as_editor)
    first = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    second = cover_upload(as_editor, book["id"], image_bytes(500, 500, "PNG"), filename="c.png")
    assert second.status_code == 200, second.content
    url = second.json()["cover_url"]
    assert url != first
    assert fetch(first).status_code == 404
    assert fetch(url).status_code == 200


def test_deleting_the_cover(backend, as_editor):
    book = book_create(as_editor)
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    assert as_editor.delete(f"/api/v1/books/{book['id']}/cover").status_code == 204
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["cover_url"] is None
    assert fetch(url).status_code == 404
    # Nothing to remove is no error.
    assert as_editor.delete(f"/api/v1/books/{book['id']}/cover").status_code == 204


def test_deleting_the_book_deletes_its_cover(backend, as_editor):
    book = book_create(as_editor)
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    pending = cover_grant(as_editor, book["id"], b"x" * 10).json()["upload"]["fields"]["key"]
    assert (
        as_editor.upload(
            cover_grant(as_editor, book["id"], b"x" * 10).json()["upload"], b"x" * 10
        ).status_code
        == 204
    )
    assert as_editor.delete(f"/api/v1/books/{book['id']}").status_code == 204
    assert fetch(url).status_code == 404
    assert get_object_store().head(pending) is None


def test_exif_gps_and_every_other_metadata_is_stripped(backend, as_editor):
    upload = jpeg_with_gps(800, 400, orientation=6)
    assert b"GPS" in upload or CAMERA.encode() in upload
    book = book_create(as_editor)
    done = cover_upload(as_editor, book["id"], upload)
    assert done.status_code == 200, done.content
    data = served(done.json()["cover_url"])
    assert CAMERA.encode() not in data and b"secret comment" not in data
    assert b"Exif" not in data and b"ICC_PROFILE" not in data
    image = Image.open(io.BytesIO(data))
    assert not image.getexif()
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)
    # The EXIF orientation was applied before it was dropped: 800 x 400 shown upright.
    assert image.size == (300, 600)


def test_a_noisy_3000px_image_fits_600px_and_150_kb(backend, as_editor):
    book = book_create(as_editor)
    done = cover_upload(
        as_editor,
        book["id"],
        noisy_png(3000, 3000, block=5),
        filename="n.png",
        content_type="image/png",
    )
    assert done.status_code == 200, done.content
    data = served(done.json()["cover_url"])
    assert len(data) <= 150 * 1024
    assert max(Image.open(io.BytesIO(data)).size) <= 600


def test_transparency_is_flattened_on_white(backend, as_editor):
    book = book_create(as_editor)
    done = cover_upload(
        as_editor, book["id"], transparent_png(), filename="t.png", content_type="image/png"
    )
    image = Image.open(io.BytesIO(served(done.json()["cover_url"])))
    assert image.mode == "RGB"
    assert all(channel > 245 for channel in image.getpixel((10, 10)))


def test_webp_is_accepted(backend, as_editor):
    book = book_create(as_editor)
    content = image_bytes(400, 300, "WEBP")
    done = cover_upload(
        as_editor, book["id"], content, filename="c.webp", content_type="image/webp"
    )
    assert done.status_code == 200, done.content


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"content_type": "image/gif", "filename": "c.gif"}, "content_type"),
        ({"content_type": "image/svg+xml", "filename": "c.svg"}, "content_type"),
        ({"filename": "cover.gif"}, "filename"),
        ({"filename": "cover.m4a"}, "filename"),
        ({"size_bytes": 5 * 1024 * 1024 + 1}, "size_bytes"),
        ({"size_bytes": 0}, "size_bytes"),
        ({"size_bytes": "12"}, "size_bytes"),
        ({"filename": ""}, "filename"),
    ],
    ids=["gif", "svg", "gif-name", "audio-name", "over-5mb", "empty", "text-size", "no-name"],
)
def test_the_grant_refuses_other_types_and_sizes(db, as_editor, fields, field):
    book = book_create(as_editor)
    response = cover_grant(as_editor, book["id"], b"x", **fields)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["version"] == book["version"]


def test_the_local_policy_enforces_5_mb(db, as_editor, settings):
    settings.VOJ_MAX_COVER_BYTES = 1000
    book = book_create(as_editor)
    grant = cover_grant(as_editor, book["id"], b"x" * 1000).json()["upload"]
    refused = as_editor.upload(grant, b"x" * 1001)
    assert refused.status_code == 400
    assert refused.json()["code"] == "EntityTooLarge"


def refused(api, book_id: str, content: bytes, code: str, **fields) -> dict:
    response = cover_upload(api, book_id, content, **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    return body


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"This is a text file, not a picture.\n" * 20, "cover_not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "cover_not_an_image"),
        (image_bytes(400, 400, "GIF"), "cover_not_an_image"),
        (image_bytes(800, 800)[:3000], "cover_corrupt"),
        (image_bytes(200, 200), "cover_too_small"),
        (image_bytes(1000, 299), "cover_too_small"),
        (png_declaring(7000, 10), "cover_too_large"),
        (png_declaring(400, 400), "cover_corrupt"),
    ],
    ids=["text", "svg", "gif", "truncated", "200px", "299px-high", "7000x10", "no-pixels"],
)
def test_bad_images_are_refused_and_the_old_cover_kept(backend, as_editor, content, code):
    book = book_create(as_editor)
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    pending = cover_grant(as_editor, book["id"], content).json()["upload"]
    assert as_editor.upload(pending, content).status_code == 204
    response = as_editor.post(f"/api/v1/books/{book['id']}/cover/complete")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert get_object_store().head(pending["fields"]["key"]) is None
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["cover_url"] == url
    assert fetch(url).status_code == 200


def test_a_decompression_bomb_is_refused_from_its_header(db, as_editor, monkeypatch):
    """60,000 x 60,000 declared in a few dozen bytes, and a real 6,001 px PNG of zeros (108 MB
    of pixels in about 100 KB): both refused before a pixel is decoded."""
    from PIL import ImageFile

    def no_decoding(self):
        raise AssertionError("a pixel was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    book = book_create(as_editor)
    for content in (png_declaring(60_000, 60_000), zeros_png(6001, 6001)):
        assert len(content) < 200_000
        started = time.perf_counter()
        body = refused(as_editor, book["id"], content, "cover_too_large", filename="b.png")
        assert time.perf_counter() - started < 2
        assert "6000" in body["detail"]


def test_completion_needs_a_pending_upload(db, as_editor):
    book = book_create(as_editor)
    response = as_editor.post(f"/api/v1/books/{book['id']}/cover/complete")
    assert (response.status_code, response.json()["code"]) == (409, "cover_not_pending")
    cover_grant(as_editor, book["id"], b"x")
    response = as_editor.post(f"/api/v1/books/{book['id']}/cover/complete")
    assert (response.status_code, response.json()["code"]) == (409, "cover_upload_missing")


def test_a_completed_upload_is_not_pending_any_more(db, as_editor):
    book = book_create(as_editor)
    assert cover_upload(as_editor, book["id"], image_bytes(400, 400)).status_code == 200
    again = as_editor.post(f"/api/v1/books/{book['id']}/cover/complete")
    assert (again.status_code, again.json()["code"]) == (409, "cover_not_pending")


def test_who_may_set_a_cover(db, as_editor, as_other_editor, as_listener, as_operator):
    book = book_create(as_editor)
    content = image_bytes(400, 400)
    # A draft does not exist for anyone else; a published book is only read by them.
    for api in (as_listener, as_other_editor):
        assert cover_grant(api, book["id"], content).status_code == 404
        assert api.delete(f"/api/v1/books/{book['id']}/cover").status_code == 404
    chapter = published_chapter(as_editor)
    book_publish(as_editor, chapter["book_id"])
    for api in (as_listener, as_other_editor):
        response = cover_grant(api, chapter["book_id"], content)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        complete = api.post(f"/api/v1/books/{chapter['book_id']}/cover/complete")
        assert complete.status_code == 403
    # Staff may.
    assert cover_upload(as_operator, book["id"], content).status_code == 200


def test_a_drafts_cover_url_is_given_only_to_those_who_see_the_draft(
    db, as_editor, as_listener, as_operator
):
    chapter = published_chapter(as_editor)
    book_id = chapter["book_id"]
    url = cover_upload(as_editor, book_id, image_bytes(400, 400)).json()["cover_url"]
    assert as_operator.get(f"/api/v1/books/{book_id}").json()["cover_url"] == url
    assert as_listener.get(f"/api/v1/books/{book_id}").status_code == 404
    assert url not in as_listener.get("/api/v1/books").content.decode()
    published = book_publish(as_editor, book_id)
    assert published["cover_url"] == url
    assert as_listener.get(f"/api/v1/books/{book_id}").json()["cover_url"] == url
    unpublished = as_editor.post(f"/api/v1/books/{book_id}/unpublish").json()
    assert unpublished["cover_url"] == url


@pytest.mark.parametrize(
    "path",
    [
        "/covers/../db.sqlite3",
        "/covers/books/..%2f..%2fsecret",
        "/covers/books/not-an-id/abcdef.jpg",
        "/covers/media/books/x.m4a",
        "/covers/books/00000000-0000-0000-0000-000000000000/abcdef0123.jpg",
    ],
)
def test_the_cover_view_serves_covers_only(db, path):
    response = Client().get(path)
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_writes_to_a_cover_are_a_json_405_not_a_csrf_page(db, as_editor, method):
    book = book_create(as_editor)
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "x"
    response = getattr(client, method)(urlsplit(url).path)
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]
    assert fetch(url).status_code == 200  # and the cover is still there


def test_the_cover_view_is_closed_with_s3(db, as_editor, settings):
    book = book_create(as_editor)
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    settings.VOJ_STORAGE = "s3"
    response = fetch(url)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_console_shows_the_cover(db, console, as_editor):
    book = book_create(as_editor)
    page = console.get(f"/admin/catalogue/books/{book['id']}/").content.decode()
    assert "voj-cover" not in page
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    page = console.get(f"/admin/catalogue/books/{book['id']}/").content.decode()
    assert f'src="{url}"' in page


def test_the_shelf_shows_the_cover(backend, as_editor, as_listener):
    from tests.listening.steps import listenable_book, put_progress, report

    book, [chapter] = listenable_book(as_editor, title="Covered")
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    put_progress(as_listener, book, report(chapter, 0.5))
    [item] = as_listener.get("/api/v1/me/progress").json()["results"]
    assert (item["book_title"], item["cover_url"]) == ("Covered", url)
    assert fetch(url).status_code == 200


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("cover-exif-gps.jpg", None),
        ("cover-too-small.png", "cover_too_small"),
        ("cover-bomb.png", "cover_too_large"),
    ],
)
def test_the_committed_fixtures(db, as_editor, name, code):
    """tests/fixtures/make_covers.py's files, as a client would upload them."""
    from tests.conftest import fixture_bytes

    content = fixture_bytes(name)
    book = book_create(as_editor)
    response = cover_upload(as_editor, book["id"], content, filename=name)
    if code is None:
        assert response.status_code == 200, response.content
        data = served(response.json()["cover_url"])
        assert CAMERA.encode() not in data and b"secret comment" not in data
    else:
        assert (response.status_code, response.json()["code"]) == (400, code)
