"""The cover check and re-encoding on its own: every image mode Pillow may hand back, EXIF
orientations, the size and byte limits, and refusals before decoding."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import warnings

import pytest
from PIL import Image, ImageFile, ImageOps

from streaming import cover_images
from streaming.cover_images import (
    MAX_JPEG_SCANS,
    MAX_SIDE,
    MIN_SIDE,
    OUTPUT_BYTES,
    OUTPUT_SIDE,
    CoverRejected,
    _encoded,
    cover_render,
)
from tests.images import (
    image_bytes,
    jpeg_with_gps,
    jpeg_with_raw_exif,
    mistyped_exif,
    noisy_png,
    png_declaring,
    swapped_profile,
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
    assert str(refused.value) == refused.value.reason
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


def _marked(orientation: int) -> bytes:
    """A 600 x 400 PNG, black with a white block in one corner, that says it must be turned."""
    image = Image.new("RGB", (600, 400), "black")
    image.paste((255, 255, 255), (0, 0, 150, 100))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    return out.getvalue()


def _corner(image: Image.Image) -> tuple[bool, bool, bool, bool]:
    """Which corners are white: top left, top right, bottom left, bottom right."""
    w, h = image.size
    points = [(10, 10), (w - 11, 10), (10, h - 11), (w - 11, h - 11)]
    return tuple(image.convert("L").getpixel(p) > 128 for p in points)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_orientation_turns_as_pillow_s_own_reading_does(orientation):
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(_marked(orientation))))
    assert _corner(rendered(_marked(orientation))) == _corner(expected)


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
    assert rendered(zeros_png(MIN_SIDE, MAX_SIDE)).size == (30, OUTPUT_SIDE)
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
    ordinary = _progressive_jpeg_of(0)
    assert ordinary.count(b"\xff\xda") == 10  # what Pillow's encoder writes
    assert rendered(ordinary).size == (600, 600)
    assert rendered(_progressive_jpeg_of(MAX_JPEG_SCANS - 10)).size == (600, 600)  # the limit
    with pytest.raises(CoverRejected) as refused:
        cover_render(_progressive_jpeg_of(MAX_JPEG_SCANS - 9))
    assert refused.value.reason == (
        f"The JPEG is split into {MAX_JPEG_SCANS + 1} scans; at most {MAX_JPEG_SCANS} are "
        "accepted (save it again as a baseline or ordinary progressive JPEG)."
    )

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


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a" + b"\0" * 100, "The file is not a JPEG, PNG or WebP image."),
        (image_bytes(400, 400)[:30], "The image header is damaged."),
        (image_bytes(400, 400, "PNG")[:200], "The image is truncated or damaged."),
    ],
    ids=["gif", "jpeg-header-cut", "png-cut"],
)
def test_each_refusal_says_why(data, reason):
    with pytest.raises(CoverRejected) as refused:
        cover_render(data)
    assert refused.value.reason == reason


def test_a_warning_while_reading_the_header_is_only_a_warning(monkeypatch):
    original = Image.open

    def warns(*args, **kwargs):
        warnings.warn("reading", UserWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(Image, "open", warns)
    with pytest.warns(UserWarning):
        assert rendered(image_bytes(400, 400)).size == (400, 400)


# --- colours: the embedded profile, transparency -----------------------------------------------


def near(pixel, expected, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_colours_are_converted_from_the_embedded_profile(fmt):
    image = Image.new("RGB", (400, 400), (200, 100, 50))
    data = encoded(image, fmt, icc_profile=swapped_profile(), quality=95)
    assert near(rendered(data).getpixel((200, 200)), (50, 100, 200))


def test_a_transparent_image_keeps_its_transparency_through_its_profile():
    image = Image.new("RGBA", (400, 400), (200, 100, 50, 255))
    image.paste((0, 0, 0, 0), (0, 0, 200, 400))
    cover = rendered(encoded(image, "PNG", icc_profile=swapped_profile()))
    assert near(cover.getpixel((100, 200)), (255, 255, 255))
    assert near(cover.getpixel((300, 200)), (50, 100, 200))


@pytest.mark.parametrize("icc", [b"not a profile", b"\0" * 200])
def test_a_profile_that_cannot_be_read_is_ignored(icc):
    image = Image.new("RGB", (400, 400), (200, 100, 50))
    assert near(
        rendered(encoded(image, "PNG", icc_profile=icc)).getpixel((200, 200)), (200, 100, 50)
    )


@pytest.mark.parametrize(
    ("mode", "background", "key"),
    [("LA", (0, 0), None), ("RGB", (0, 0, 0), (0, 0, 0)), ("L", 0, 0)],
)
def test_transparent_pixels_are_white(mode, background, key):
    """An alpha channel, or a PNG's transparent colour (tRNS) in grey or RGB."""
    image = Image.new(mode, (400, 400), background)
    save = {} if key is None else {"transparency": key}
    assert near(rendered(encoded(image, "PNG", **save)).getpixel((200, 200)), (255, 255, 255))


# --- decoding: the JPEG scale, warnings --------------------------------------------------------


def decoded_size(monkeypatch, data: bytes) -> tuple[int, int]:
    """The size the image was decoded at (before it is turned and shrunk)."""
    sizes = []
    original = cover_images._upright

    def kept(image):
        sizes.append(image.size)
        return original(image)

    monkeypatch.setattr(cover_images, "_upright", kept)
    rendered(data)
    return sizes[0]


@pytest.mark.parametrize(
    ("size", "decoded"),
    [((4800, 2400), (2400, 1200)), ((2400, 4800), (1200, 2400))],
)
def test_a_large_jpeg_is_decoded_at_the_smallest_scale_that_keeps_twice_the_cover(
    monkeypatch, size, decoded
):
    assert decoded_size(monkeypatch, image_bytes(*size)) == decoded


def test_other_formats_decode_whole(monkeypatch):
    assert decoded_size(monkeypatch, image_bytes(1300, 1300, "PNG")) == (1300, 1300)


def test_covers_are_shrunk_with_lanczos(monkeypatch):
    """The sharpest of Pillow's filters: a cover is shown small, its detail matters."""
    data = encoded(noise(1201, 1201), "PNG")
    shrunk = []
    monkeypatch.setattr(cover_images, "_in_srgb", lambda image, icc: shrunk.append(image) or image)
    rendered(data)
    expected = Image.open(io.BytesIO(data))
    expected.thumbnail((OUTPUT_SIDE, OUTPUT_SIDE), Image.Resampling.LANCZOS)
    assert shrunk[0].tobytes() == expected.tobytes()


def warning_while_decoding(monkeypatch, category: type[Warning]) -> None:
    original = cover_images._upright

    def warns(image):
        warnings.warn("decoding", category, stacklevel=1)
        return original(image)

    monkeypatch.setattr(cover_images, "_upright", warns)


def test_a_bomb_warning_while_decoding_is_a_refusal(monkeypatch):
    warning_while_decoding(monkeypatch, Image.DecompressionBombWarning)
    assert kind_of(image_bytes(400, 400)) == "corrupt"


def test_another_warning_while_decoding_is_only_a_warning(monkeypatch):
    warning_while_decoding(monkeypatch, UserWarning)
    with pytest.warns(UserWarning):
        assert rendered(image_bytes(400, 400)).size == (400, 400)


# --- encoding: quality first, then size ---------------------------------------------------------


def noise(width: int, height: int) -> Image.Image:
    pixels = random.Random(f"{width}x{height}").randbytes(width * height * 3)
    return Image.frombytes("RGB", (width, height), pixels)


def test_the_best_quality_is_kept_when_it_fits_exactly(monkeypatch):
    image = noise(300, 300)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, progressive=True)
    monkeypatch.setattr(cover_images, "OUTPUT_BYTES", out.tell())
    assert _encoded(image) == out.getvalue()


@pytest.mark.parametrize(
    ("size", "shrunk"),
    [((600, 600), (384, 384)), ((200, 2), (160, 1)), ((2, 200), (1, 160))],
)
def test_an_image_that_does_not_fit_at_the_lowest_quality_shrinks_until_it_does(
    monkeypatch, size, shrunk
):
    """A fifth smaller each time, never below one pixel a side."""
    limit = 40_000 if size == (600, 600) else 850
    monkeypatch.setattr(cover_images, "OUTPUT_BYTES", limit)
    out = _encoded(noise(*size))
    assert len(out) <= limit
    assert Image.open(io.BytesIO(out)).size == shrunk
