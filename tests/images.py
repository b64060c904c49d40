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
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """A PNG chunk: its length, type, data and the CRC that makes a reader believe it."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares ``width`` x ``height`` RGB pixels (a
    decompression bomb's header: decoding it would need width * height * 3 bytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_MAGIC
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def zeros_png(width: int, height: int) -> bytes:
    """A real, valid PNG of ``width`` x ``height`` black pixels: megapixels in kilobytes."""
    row = b"\0" + b"\0" * (width * 3)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_MAGIC + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")
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


def _jpeg_segments(marker: int, body: bytes) -> bytes:
    """``body`` in as many segments of ``marker`` as it takes (each at most 65,533 bytes)."""
    step = 65533
    return b"".join(
        struct.pack(">BBH", 0xFF, marker, len(part) + 2) + part
        for part in (body[i : i + step] for i in range(0, max(len(body), 1), step))
    )


def _webp_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) % 2)


def with_metadata(data: bytes, kind: str, body: bytes) -> bytes:
    """``body`` as metadata of ``kind`` ("text", "exif", "icc", "xmp"), placed where the file's
    format keeps it: after IHDR, after SOI, or after the WebP's first chunk (RIFF size fixed)."""
    if data.startswith(PNG_MAGIC):
        return data[:33] + _png_metadata(kind, body) + data[33:]
    if data.startswith(b"\xff\xd8"):
        return data[:2] + _jpeg_metadata(kind, body) + data[2:]
    if data.startswith(b"RIFF") and len(data) >= 20:
        name = {"exif": b"EXIF", "icc": b"ICCP"}.get(kind, b"XMP ")
        first = 20 + struct.unpack("<I", data[16:20])[0]
        first += first % 2
        riff = data[12:first] + _webp_chunk(name, body) + data[first:]
        return b"RIFF" + struct.pack("<I", len(riff) + 4) + b"WEBP" + riff
    return data + body


def _png_metadata(kind: str, body: bytes) -> bytes:
    if kind == "itxt":
        return png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + body)
    if kind == "ztxt":
        return png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(body, 1))
    if kind == "exif":
        return png_chunk(b"eXIf", body)
    if kind == "icc":
        return png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(body, 1))
    return png_chunk(b"tEXt", b"Comment\0" + body)


def _jpeg_metadata(kind: str, body: bytes) -> bytes:
    if kind == "exif":
        return _jpeg_segments(0xE1, b"Exif\0\0" + body)
    if kind == "xmp":
        return _jpeg_segments(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + body)
    if kind == "icc":
        return _icc_segments(body)
    return _jpeg_segments(0xFE, body)


def _icc_segments(body: bytes) -> bytes:
    step = 65519
    parts = [body[i : i + step] for i in range(0, max(len(body), 1), step)][:255]
    return b"".join(
        _jpeg_segments(0xE2, b"ICC_PROFILE\0" + bytes((n + 1, len(parts))) + part)
        for n, part in enumerate(parts)
    )


def swapped_profile() -> bytes:
    """An RGB ICC profile whose red and blue primaries are sRGB's blue and red: a picture
    tagged with it shows its red channel as blue, so converting it to sRGB swaps them."""
    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack(">I", data[128:132])
    entries = {bytes(data[at : at + 4]): at for at in range(132, 132 + 12 * count, 12)}
    red, blue = entries[b"rXYZ"] + 4, entries[b"bXYZ"] + 4
    data[red : red + 8], data[blue : blue + 8] = data[blue : blue + 8], data[red : red + 8]
    return bytes(data)
