"""Covers that attack the check, through the HTTP API: bytes that lie about their type, damaged
or gigantic metadata, other files riding along. Each is made into a clean cover or refused with
a documented code, the book keeping its cover; never a 500."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from streaming.stores import get_object_store
from tests.books.test_api_covers import cover_grant, cover_upload, served
from tests.cover_fuzz import METADATA_BYTES, with_metadata
from tests.helpers import book_create
from tests.images import image_bytes, jpeg_with_raw_exif, mistyped_exif

MARK = b"VOJ-HIDDEN-PAYLOAD"


def clean(done) -> Image.Image:
    assert done.status_code == 200, done.content
    data = served(done.json()["cover_url"])
    assert len(data) <= 150 * 1024 and MARK not in data
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.mode) == ("JPEG", "RGB") and max(image.size) <= 600
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)
    return image


def test_a_damaged_exif_is_a_cover_not_a_500(backend, as_editor):
    """Found by fuzzing: a tag holding text where the TIFF spec says a number made the EXIF
    orientation step raise struct.error, and completion answered 500."""
    book = book_create(as_editor)
    done = cover_upload(as_editor, book["id"], jpeg_with_raw_exif(800, 400, mistyped_exif()))
    assert clean(done).size == (300, 600)  # still turned upright


@pytest.mark.parametrize(
    ("fmt", "kind", "declared"),
    [
        ("JPEG", "comment", ("cover.jpg", "image/jpeg")),
        ("JPEG", "xmp", ("cover.png", "image/png")),
        ("JPEG", "exif", ("cover.webp", "image/webp")),
        ("PNG", "itxt", ("cover.jpg", "image/jpeg")),
        ("PNG", "text", ("cover.png", "image/png")),
        ("WEBP", "xmp", ("cover.jpg", "image/jpeg")),
    ],
)
def test_four_megabytes_of_metadata_under_any_declared_type(db, as_editor, fmt, kind, declared):
    """The file name and content type are a client's word; the bytes decide, and 4 MB of
    comment, XMP, EXIF or PNG text is dropped on the way."""
    content = with_metadata(image_bytes(900, 600, fmt), kind, MARK * (METADATA_BYTES // len(MARK)))
    assert len(content) > METADATA_BYTES
    book = book_create(as_editor)
    filename, content_type = declared
    done = cover_upload(
        as_editor, book["id"], content, filename=filename, content_type=content_type
    )
    assert clean(done).size == (600, 400)


def test_a_file_riding_behind_an_image_is_not_served(db, as_editor):
    """A JPEG with an HTML page and a ZIP after its end (a polyglot): the cover is made from the
    pixels alone."""
    content = image_bytes(400, 400) + b"<html><script>" + MARK + b"</script></html>PK\x03\x04"
    book = book_create(as_editor)
    clean(cover_upload(as_editor, book["id"], content))


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + image_bytes(400, 400)[8:], "cover_not_an_image"),
        (b"\xff\xd8\xff\xe0" + image_bytes(400, 400, "PNG"), "cover_corrupt"),
        (b"<html>" + MARK + b"</html>", "cover_not_an_image"),
        (image_bytes(400, 400)[:2000] + image_bytes(400, 400, "PNG"), "cover_corrupt"),
        (
            with_metadata(image_bytes(400, 400, "PNG"), "ztxt", b"\0" * METADATA_BYTES),
            "cover_corrupt",
        ),
    ],
    ids=["png-magic-on-a-jpeg", "jpeg-magic-on-a-png", "html", "half-jpeg-half-png", "ztxt-bomb"],
)
def test_lies_and_bombs_are_refused_and_the_cover_kept(db, as_editor, content, code):
    book = book_create(as_editor)
    url = cover_upload(as_editor, book["id"], image_bytes(400, 400)).json()["cover_url"]
    pending = cover_grant(as_editor, book["id"], content).json()["upload"]
    assert as_editor.upload(pending, content).status_code == 204
    response = as_editor.post(f"/api/v1/books/{book['id']}/cover/complete")
    assert (response.status_code, response.json()["code"]) == (400, code), response.content
    assert get_object_store().head(pending["fields"]["key"]) is None
    assert as_editor.get(f"/api/v1/books/{book['id']}").json()["cover_url"] == url
