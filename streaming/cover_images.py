"""A cover upload checked by decoding it, and the listener-size JPEG made from it.

Pillow reads only the header at ``Image.open``: the format and the dimensions are checked there,
before a single pixel is decoded, so a decompression bomb (a few KB declaring 60,000 x 60,000)
is refused for what it claims. Only then is the image decoded, turned by its EXIF orientation,
shrunk and encoded again into a fresh image: nothing of the upload's metadata (EXIF, GPS,
camera data, comments, XMP, ICC) reaches a listener.

Pillow is imported inside the functions: it costs tens of milliseconds at first import, paid
only where a cover is checked, never by a cold start (importing this module loads no Pillow).
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

# What every cover is stored and served with. Its key is new with every upload, so its bytes
# never change: browsers and the CDN may keep it for a year without asking again.
COVER_CONTENT_TYPE = "image/jpeg"
COVER_CACHE_CONTROL = "public, max-age=31536000, immutable"

MIN_SIDE = 300
# At most MAX_SIDE x MAX_SIDE (36 million pixels): Pillow's own bomb check
# (DecompressionBombWarning/Error, at about 89 and 179 million pixels) never comes near, but a
# header it finds absurd is refused too.
MAX_SIDE = 6000
OUTPUT_SIDE = 600
OUTPUT_BYTES = 150 * 1024
FORMATS = ("JPEG", "PNG", "WEBP")
# A progressive JPEG is decoded scan by scan, each over the whole image, however few bytes a
# scan takes: a 330 KB file of 2,000 repeated scans took 40 s. Encoders write about 10.
MAX_JPEG_SCANS = 64
# Quality steps tried in turn until the JPEG fits OUTPUT_BYTES; then the image shrinks.
_QUALITIES = (85, 75, 65, 55, 45)
_SHRINK = 0.8
_ORIENTATION = 0x0112  # the EXIF tag


class CoverRejected(Exception):
    """The upload is not a cover voj can use: ``kind`` is too_small, too_large, not_an_image or
    corrupt; ``reason`` says why in words a person can act on."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def cover_render(data: bytes) -> bytes:
    """The listener's cover made from the upload ``data``: RGB, at most OUTPUT_SIDE px on its
    long side, JPEG, no metadata, at most OUTPUT_BYTES. Raises CoverRejected."""
    image = _opened(data)
    _check_dimensions(*image.size)
    if image.format == "JPEG":
        _check_scans(data)
    pixels = _decoded(image)
    return _encoded(pixels)


def _opened(data: bytes) -> Image:
    """The image, its header read and nothing decoded yet."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - Pillow: cover checks only

    with warnings.catch_warnings():
        # Pillow warns (DecompressionBombWarning) before it refuses: both are a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise CoverRejected(
                "too_large",
                f"The image declares far more pixels than a cover may have "
                f"(at most {MAX_SIDE} px a side).",
            ) from None
        except UnidentifiedImageError:
            raise CoverRejected(
                "not_an_image", "The file is not a JPEG, PNG or WebP image."
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise CoverRejected("corrupt", "The image header is damaged.") from None


def _check_dimensions(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise CoverRejected(
            "too_large",
            f"The image is {width} x {height} px; at most {MAX_SIDE} px a side is accepted.",
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise CoverRejected(
            "too_small",
            f"The image is {width} x {height} px; at least {MIN_SIDE} px a side is needed.",
        )


def _check_scans(data: bytes) -> None:
    """Refuse a JPEG of more scans than an encoder writes, before any is decoded. Inside a scan
    a 0xFF byte is followed by 0x00 (or a restart marker), so each 0xFF 0xDA starts a scan."""
    scans = data.count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS:
        raise CoverRejected(
            "too_large",
            f"The JPEG is split into {scans} scans; at most {MAX_JPEG_SCANS} are accepted "
            "(save it again as a baseline or ordinary progressive JPEG).",
        )


def _decoded(image: Image) -> Image:
    """The pixels, upright and at most OUTPUT_SIDE a side, in RGB on white; CoverRejected
    ("corrupt") if they cannot be decoded (truncated, damaged)."""
    from PIL import Image  # noqa: PLC0415 - Pillow: cover checks only

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if image.format == "JPEG":
                # JPEG decodes at 1/2, 1/4 or 1/8 scale for free: far less memory and time.
                # The scale only: its colours are converted below, like every format's.
                image.draft(None, (OUTPUT_SIDE * 2, OUTPUT_SIDE * 2))
            image.load()
            icc = image.info.get("icc_profile")
            upright = _upright(image)
            upright.thumbnail((OUTPUT_SIDE, OUTPUT_SIDE), Image.Resampling.LANCZOS)
            return _on_white(_in_srgb(upright, icc))
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning):
        raise CoverRejected("corrupt", "The image is truncated or damaged.") from None


def _upright(image: Image) -> Image:
    """The image turned as its EXIF orientation says. Only the orientation is read: Pillow's
    ImageOps.exif_transpose also writes the EXIF back, and a damaged one (a tag whose value is
    not of its type) raised struct.error there, a 500. The EXIF is dropped anyway; a damaged
    one turns nothing."""
    from PIL import Image  # noqa: PLC0415 - Pillow: cover checks only

    turns: dict[object, Image.Transpose] = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }
    try:
        orientation = image.getexif().get(_ORIENTATION)
    except (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, struct.error):
        return image
    # Every EXIF value Pillow reads is hashable; any that is not 2 to 8 turns nothing.
    turn = turns.get(orientation)
    return image.transpose(turn) if turn is not None else image


def _in_srgb(image: Image, icc: Any) -> Image:
    """Colours from the image's own ICC profile into sRGB, so that dropping the profile keeps
    them; an unusable profile is ignored."""
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    from PIL import ImageCms  # noqa: PLC0415 - Pillow: cover checks only

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=output
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def _on_white(image: Image) -> Image:
    """A new RGB image (so no ``info`` of the upload's comes along) with any transparency
    flattened on white: an alpha channel, or the transparent colour of a palette, grey or RGB
    PNG (``transparency``). JPEG, PNG and WebP decode to no other mode with alpha."""
    from PIL import Image  # noqa: PLC0415 - Pillow: cover checks only

    if image.mode.startswith("I"):
        # 16-bit grey (I;16, or I): scaled to 8 bits. Pasted as it is, every value over 255
        # would clip to white.
        image = image.point(lambda value: value * (1 / 256))
    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    clean = Image.new("RGB", image.size, "white")
    if has_alpha:
        rgba = image.convert("RGBA")
        clean.paste(rgba, mask=rgba.getchannel("A"))
    else:
        clean.paste(image)  # paste converts to the RGB it is pasted into
    return clean


def _encoded(image: Image) -> bytes:
    """JPEG at the best quality that fits OUTPUT_BYTES, shrinking the image when even the
    lowest does not (noise compresses badly). No exif, icc_profile or comment is passed, and
    the image is new: Pillow writes none."""
    while True:
        for quality in _QUALITIES:
            out = io.BytesIO()
            # Progressive: libjpeg then always writes optimised Huffman tables (optimize=True
            # would change nothing), and a cover shows, blurred, before it has all arrived.
            image.save(out, "JPEG", quality=quality, progressive=True)
            if out.tell() <= OUTPUT_BYTES:
                return out.getvalue()
        width, height = image.size
        image = image.resize((max(1, int(width * _SHRINK)), max(1, int(height * _SHRINK))))
