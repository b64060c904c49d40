"""The cover check and re-encoding on its own: every image mode Pillow may hand back, EXIF
orientations, the size and byte limits, and refusals before decoding."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from PIL import Image, ImageFile

from streaming.cover_images import (
    MAX_SIDE,
    MIN_SIDE,
    OUTPUT_BYTES,
    OUTPUT_SIDE,
    CoverRejected,
    cover_render,
)
from tests.images import (
    image_bytes,
    jpeg_with_gps,
    jpeg_with_raw_exif,
    mistyped_exif,
    noisy_png,
    png_declaring,
    zeros_png,
)


def rendered(data: bytes) -> Image.Image:
    out = cover_render(data)
    assert len(out) <= OUTPUT_BYTES
    image = Image.open(io.BytesIO(out))
    assert image.format == "JPEG" and image.mode == "RGB"
    assert max(image.size) <= OUTPUT_SIDE
    assert not image.getexif() and "icc_profile" not in image.info
    return image


def kind_of(data: bytes) -> str:
    with pytest.raises(CoverRejected) as refused:
        cover_render(data)
    assert refused.value.reason
    return refused.value.kind


def encoded(image: Image.Image, fmt: str, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("RGB", "PNG"),
        ("RGBA", "PNG"),
        ("LA", "PNG"),
        ("L", "JPEG"),
        ("CMYK", "JPEG"),
        ("P", "PNG"),
        ("1", "PNG"),
        ("I;16", "PNG"),
        ("RGBA", "WEBP"),
    ],
)
def test_every_mode_becomes_rgb(mode, fmt):
    image = Image.linear_gradient("L").resize((320, 320)).convert(mode)
    assert rendered(encoded(image, fmt)).size == (320, 320)


def test_palette_transparency_is_flattened_on_white():
    image = Image.new("P", (400, 400), 0)
    image.putpalette([0, 0, 0, 255, 0, 0])
    data = encoded(image, "PNG", transparency=0)
    assert all(c > 245 for c in rendered(data).getpixel((200, 200)))


@pytest.mark.parametrize(
    ("orientation", "size"),
    [(1, (600, 300)), (2, (600, 300)), (3, (600, 300)), (4, (600, 300))]
    + [(n, (300, 600)) for n in (5, 6, 7, 8)],
)
def test_exif_orientation_is_applied(orientation, size):
    assert rendered(jpeg_with_gps(800, 400, orientation=orientation)).size == size


def test_a_damaged_exif_still_turns_the_image_and_is_dropped():
    """Found by tests/cover_fuzz.py: a tag whose value is not of its type made Pillow's
    exif_transpose raise struct.error (a 500 at completion). Only the orientation is read."""
    upload = jpeg_with_raw_exif(800, 400, mistyped_exif(orientation=6))
    assert Image.open(io.BytesIO(upload)).getexif()[0x0150] == "FuzzCam"
    out = rendered(upload)
    assert out.size == (300, 600)


@pytest.mark.parametrize("orientation", [0, 9, 65535])
def test_an_orientation_out_of_range_turns_nothing(orientation):
    upload = jpeg_with_raw_exif(800, 400, mistyped_exif(orientation=orientation))
    assert rendered(upload).size == (600, 300)


def test_limits_at_the_edges():
    assert rendered(image_bytes(MIN_SIDE, MIN_SIDE)).size == (MIN_SIDE, MIN_SIDE)
    assert rendered(zeros_png(MAX_SIDE, MIN_SIDE)).size == (OUTPUT_SIDE, 30)
    assert kind_of(image_bytes(MIN_SIDE - 1, 1000)) == "too_small"
    assert kind_of(png_declaring(MAX_SIDE + 1, 400)) == "too_large"
    assert kind_of(png_declaring(400, MAX_SIDE + 1)) == "too_large"


def test_noise_is_made_to_fit_150_kb():
    assert rendered(noisy_png(600, 600)).size == (600, 600)


def test_an_animated_webp_gives_its_first_frame():
    frames = [Image.new("RGB", (400, 400), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    red, _, blue = rendered(out.getvalue()).getpixel((200, 200))
    assert red > 200 and blue < 60


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "not_an_image"),
        (b"GIF89a" + b"\0" * 100, "not_an_image"),
        (image_bytes(400, 400, "BMP"), "not_an_image"),
        (image_bytes(400, 400, "TIFF"), "not_an_image"),
        (image_bytes(400, 400, "PNG")[:200], "corrupt"),
        (image_bytes(400, 400, "WEBP")[:100], "corrupt"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "not_an_image"),  # no header to read
    ],
    ids=["empty", "gif", "bmp", "tiff", "png-cut", "webp-cut", "png-garbage"],
)
def test_refusals(data, kind):
    assert kind_of(data) == kind


def test_pillows_own_bomb_limits_are_refusals_too(monkeypatch):
    """Below our side limit, Pillow's pixel limits (lowered here) still refuse, at open or at
    load, never a 500."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    assert kind_of(image_bytes(400, 400)) == "too_large"  # over the warning: refused
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40_000)
    assert kind_of(image_bytes(400, 400)) == "too_large"  # over twice: Pillow's own error


def test_a_bomb_is_refused_without_decoding(monkeypatch):
    def no_decoding(self):
        raise AssertionError("a pixel was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert kind_of(png_declaring(60_000, 60_000)) == "too_large"
    assert kind_of(zeros_png(MAX_SIDE + 1, MAX_SIDE + 1)) == "too_large"


def test_pillow_is_not_imported_by_the_application():
    """Pillow loads only where a cover is checked: never at a cold start."""
    code = (
        "import django, sys; django.setup();"
        "import voj.urls, books.api, listening.api, voj.admin_site;"
        "print('PIL' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "voj.settings", "VOJ_ENV": "test", "PATH": ""},
    )
    assert result.stdout.strip() == "False"
