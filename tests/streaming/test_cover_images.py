"""The cover check and re-encoding on its own: every image mode Pillow may hand back, EXIF
orientations, the size and byte limits, and refusals before decoding."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from PIL import Image, ImageFile

from streaming.cover_images import (
    MAX_JPEG_SCANS,
    MAX_SIDE,
    MIN_SIDE,
    OUTPUT_BYTES,
    OUTPUT_SIDE,
    CoverRejected,
    cover_render,
)
from tests.images import image_bytes, jpeg_with_gps, noisy_png, png_declaring, zeros_png


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


def _progressive_jpeg_of(scans_added: int) -> bytes:
    """A progressive JPEG (about 10 scans) with its last scan repeated ``scans_added`` times: a
    few hundred bytes more each, and a whole decoding pass over the image each."""
    data = image_bytes(600, 600, "JPEG", progressive=True, quality=80)
    last, end = data.rindex(b"\xff\xda"), data.rindex(b"\xff\xd9")
    return data[:end] + data[last:end] * scans_added + data[end:]


def test_a_jpeg_of_too_many_scans_is_refused_without_decoding(monkeypatch):
    """A 330 KB file of 2,000 repeated scans took 40 s to decode: refused from its markers."""
    assert rendered(_progressive_jpeg_of(0)).size == (600, 600)  # an ordinary progressive JPEG
    assert rendered(_progressive_jpeg_of(MAX_JPEG_SCANS - 12)).size == (600, 600)

    def no_decoding(self):
        raise AssertionError("a pixel was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert kind_of(_progressive_jpeg_of(MAX_JPEG_SCANS)) == "too_large"
    assert kind_of(_progressive_jpeg_of(2000)) == "too_large"


def test_sixteen_bit_grey_is_scaled_not_clipped_to_white():
    image = Image.new("I;16", (512, 400))
    image.putdata([x * 128 for _ in range(400) for x in range(512)])  # 0 .. 65408 by columns
    out = io.BytesIO()
    image.save(out, "PNG")
    cover = rendered(out.getvalue())
    greys = [cover.getpixel((x, 100))[0] for x in range(0, 512, 64)]
    assert greys == pytest.approx([0, 32, 64, 96, 128, 160, 192, 224], abs=3)


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
