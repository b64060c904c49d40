"""Cover images made at test time with Pillow, and hostile ones built byte by byte."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image

# A GPS position and a camera that must never reach a listener.
GPS_LATITUDE = (37.0, 33.0, 59.0)
CAMERA = "VojTestCam 3000"


def image_bytes(width: int, height: int, fmt: str = "JPEG", *, mode: str = "RGB", **save) -> bytes:
    """A plain picture: a colour gradient (compresses like a real cover)."""
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def noisy_png(width: int, height: int, *, block: int = 1) -> bytes:
    """Random pixels in ``block`` x ``block`` squares: noise still once shrunk to a cover's
    size, the worst case for its size limit (and, with blocks, a PNG small enough to upload)."""
    small = (width // block, height // block)
    noise = Image.frombytes("RGB", small, os.urandom(small[0] * small[1] * 3))
    out = io.BytesIO()
    noise.resize((width, height), Image.Resampling.NEAREST).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(width: int = 800, height: int = 400, *, orientation: int = 6) -> bytes:
    """A JPEG with EXIF GPS, camera model, an orientation tag (6: turn 90 degrees clockwise to
    view), a comment and an ICC profile."""
    from PIL import ImageCms

    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = CAMERA  # Model
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"secret comment", icc_profile=icc)
    return out.getvalue()


def transparent_png(size: int = 400) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (size, size), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares ``width`` x ``height`` RGB pixels (a
    decompression bomb's header: decoding it would need width * height * 3 bytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _chunk(b"IEND", b"")
    )


def zeros_png(width: int, height: int) -> bytes:
    """A real, valid PNG of ``width`` x ``height`` black pixels: megapixels in kilobytes."""
    row = b"\0" + b"\0" * (width * 3)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def jpeg_with_raw_exif(width: int, height: int, tiff: bytes) -> bytes:
    """A plain JPEG carrying ``tiff`` (a TIFF header and IFD, as written by hand) as its EXIF."""
    data = image_bytes(width, height)
    body = b"Exif\0\0" + tiff
    return data[:2] + struct.pack(">BBH", 0xFF, 0xE1, len(body) + 2) + body + data[2:]


def mistyped_exif(orientation: int = 6) -> bytes:
    """A little-endian TIFF IFD with an orientation and tag 0x0150 (a number, by the TIFF
    spec) holding text: Pillow reads it, and fails writing it back (struct.error)."""
    text = b"FuzzCam\0"
    entries = struct.pack("<HHII", 0x0112, 3, 1, orientation) + struct.pack(
        "<HHII", 0x0150, 2, len(text), 8 + 2 + 2 * 12 + 4
    )
    return b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 2) + entries + b"\0" * 4 + text
