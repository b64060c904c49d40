"""Mutated covers, as an attacker would upload them, run through the completion's image check.

Each case starts from a valid JPEG, PNG or WebP (with EXIF, ICC, comments, transparency,
animation, interlacing) and mutates it: bit flips, bytes inserted, deleted or overwritten,
truncation, PNG chunk lengths and CRCs, the dimensions in the header, megabytes of metadata
(PNG text chunks, JPEG APP1 and COM segments, WebP EXIF and XMP, a zlib bomb in a zTXt), damaged
EXIF and ICC profiles, and files that lie about their type. ``cover_render`` must either make a
valid cover (JPEG, RGB, at most 600 px and 150 KB, no metadata) or refuse with one of its four
kinds; anything else it raises is a failure, and so is a peak of Python memory over the bound.

Seeded, so every run of a given seed and count checks the same files. The test suite runs a
couple of thousand (tests/streaming/test_cover_fuzz.py); a long run:
``VOJ_ENV=test .venv/bin/python -m tests.cover_fuzz 30000`` (docs/testing.md has the last one).
"""

from __future__ import annotations

import io
import random
import resource
import struct
import sys
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable
from functools import cache

from PIL import Image, ImageCms

from streaming.cover_images import OUTPUT_BYTES, OUTPUT_SIDE, CoverRejected, cover_render
from tests.images import PNG_MAGIC, png_chunk, with_metadata

KINDS = {"too_small", "too_large", "not_an_image", "corrupt"}
MEMORY_BOUND = 200 * 1024 * 1024
METADATA_BYTES = 4 * 1024 * 1024
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Values that cross every limit the checker has and every field width the formats use.
SIDES = (0, 1, 299, 300, 301, 5999, 6000, 6001, 16383, 16384, 65535, 2**24 - 1, 2**31 - 1)
Mutator = Callable[[random.Random, bytes], bytes]


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _picture(width: int, height: int, seed: int) -> Image.Image:
    """A gradient with blocks of noise: compresses like a cover, decodes through every path."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.frombytes("RGB", (16, 16), rng.randbytes(16 * 16 * 3))
    image.paste(noise.resize((width // 3, height // 3)), (width // 4, height // 4))
    return image


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0110] = "FuzzCam"
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[2] = (37.0, 33.0, 59.0)
    return exif


@cache
def seeds() -> tuple[bytes, ...]:
    """The valid files every case starts from, each format in its several shapes."""
    rgb = _picture(320, 360, 1)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgb.size))
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    frames = [rgb, _picture(320, 360, 2)]
    return (
        _save(rgb, "JPEG", quality=80),
        _save(rgb, "JPEG", progressive=True, exif=_exif(), icc_profile=icc, comment=b"c"),
        _save(rgb.convert("CMYK"), "JPEG"),
        _save(rgb.convert("L"), "JPEG"),
        _save(rgb, "PNG"),
        _save(rgba, "PNG", exif=_exif(), icc_profile=icc),
        _save(palette, "PNG", transparency=0),
        _save(rgb.convert("I;16"), "PNG"),
        _save(rgb.convert("LA"), "PNG"),
        interlaced_png(rgb),
        _save(rgb, "PNG", save_all=True, append_images=frames[1:]),  # APNG
        _save(rgb, "WEBP", quality=70),
        _save(rgba, "WEBP", lossless=True, exif=_exif(), icc_profile=icc),
        _save(rgb, "WEBP", save_all=True, append_images=frames[1:]),
    )


# Adam7's seven passes: (first column, first row, column step, row step).
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def interlaced_png(image: Image.Image) -> bytes:
    """An Adam7-interlaced greyscale PNG (Pillow reads them but writes none)."""
    grey = image.convert("L")
    width, height = grey.size
    pixels = grey.tobytes()
    raw = bytearray()
    for x0, y0, dx, dy in _ADAM7:
        for y in range(y0, height, dy):
            row = pixels[y * width : (y + 1) * width]
            raw += b"\0" + row[x0::dx]
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1)
    return (
        PNG_MAGIC
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(bytes(raw)))
        + png_chunk(b"IEND", b"")
    )


# --- generic byte mutations -----------------------------------------------------------------


def bit_flips(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        position = rng.randrange(len(out))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_insert(rng: random.Random, data: bytes) -> bytes:
    position = rng.randrange(len(data) + 1)
    return data[:position] + rng.randbytes(rng.randint(1, 64)) + data[position:]


def byte_delete(rng: random.Random, data: bytes) -> bytes:
    position = rng.randrange(len(data))
    return data[:position] + data[position + rng.randint(1, 64) :]


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def overwrite(rng: random.Random, data: bytes) -> bytes:
    """A value that crosses a limit written over a random word: lengths, counts, offsets."""
    value = rng.choice((b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff", b"\x00\x00"))
    value = rng.choice((value, b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x00"))
    position = rng.randrange(len(data))
    return data[:position] + value + data[position + len(value) :]


def splice(rng: random.Random, data: bytes) -> bytes:
    """A random slice of the file repeated somewhere else in it (chunks, segments, boxes twice)."""
    start = rng.randrange(len(data))
    piece = data[start : start + rng.randint(1, 4096)]
    position = rng.randrange(len(data) + 1)
    return data[:position] + piece + data[position:]


# --- structure-aware mutations ----------------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each chunk of a PNG, as far as they read."""
    chunks, offset = [], 8
    while offset + 12 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append((offset, length))
        offset += 12 + length
    return chunks


def png_lengths_and_crcs(rng: random.Random, data: bytes) -> bytes:
    chunks = _png_chunks(data) if data.startswith(PNG_MAGIC) else []
    if not chunks:
        return overwrite(rng, data)
    offset, length = rng.choice(chunks)
    out = bytearray(data)
    if rng.random() < 0.5:
        bad = rng.choice((0, length + 1, length - 1, 2**31 - 1, 2**32 - 1, rng.getrandbits(32)))
        out[offset : offset + 4] = struct.pack(">I", max(0, bad) % 2**32)
    else:
        crc = offset + 8 + length
        out[crc : crc + 4] = rng.randbytes(4)
    return bytes(out)


def png_reorder(rng: random.Random, data: bytes) -> bytes:
    """Chunks dropped, doubled or swapped: two IHDRs, no IEND, IDAT before IHDR."""
    chunks = _png_chunks(data) if data.startswith(PNG_MAGIC) else []
    if len(chunks) < 2:
        return splice(rng, data)
    pieces = [data[o : o + 12 + n] for o, n in chunks]
    i, j = rng.randrange(len(pieces)), rng.randrange(len(pieces))
    action = rng.randrange(3)
    if action == 0:
        del pieces[i]
    elif action == 1:
        pieces.insert(j, pieces[i])
    else:
        pieces[i], pieces[j] = pieces[j], pieces[i]
    return PNG_MAGIC + b"".join(pieces)


def dimensions(rng: random.Random, data: bytes) -> bytes:
    """The header's width and height set to a limit's edge, with the PNG CRC made right so that
    the lie is believed."""
    width, height = rng.choice(SIDES), rng.choice(SIDES)
    if data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR":
        body = struct.pack(">II", width % 2**32, height % 2**32) + data[24:29]
        return data[:8] + png_chunk(b"IHDR", body) + data[33:]
    if data.startswith(b"\xff\xd8"):
        return _jpeg_dimensions(data, width, height)
    if data.startswith(b"RIFF"):
        return _webp_dimensions(data, width, height)
    return overwrite(rng, data)


def _jpeg_dimensions(data: bytes, width: int, height: int) -> bytes:
    for marker in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2"):
        at = data.find(marker)
        if at > 0:
            sides = struct.pack(">HH", height % 65536, width % 65536)
            return data[: at + 5] + sides + data[at + 9 :]
    return data


def _webp_dimensions(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    at = data.find(b"VP8X")
    if at > 0:
        out[at + 12 : at + 18] = ((width - 1) % 2**24).to_bytes(3, "little") + (
            (height - 1) % 2**24
        ).to_bytes(3, "little")
    at = data.find(b"VP8 ")
    if at > 0:
        out[at + 14 : at + 18] = struct.pack("<HH", width % 2**14, height % 2**14)
    at = data.find(b"VP8L")
    if at > 0:
        bits = ((width - 1) % 2**14) | (((height - 1) % 2**14) << 14)
        out[at + 9 : at + 13] = (
            bits | (int.from_bytes(out[at + 9 : at + 13], "little") & ~(2**28 - 1))
        ).to_bytes(4, "little")
    return bytes(out)


# --- metadata: gigantic, damaged ---------------------------------------------------------------


def huge_metadata(rng: random.Random, data: bytes) -> bytes:
    """Megabytes of text, EXIF, XMP or ICC (random, or repeated: a zlib bomb) in a valid file."""
    kind = rng.choice(("text", "itxt", "ztxt", "exif", "icc", "xmp", "comment"))
    size = rng.choice((METADATA_BYTES, METADATA_BYTES // 4, 70_000, 1_000_001))
    body = b"A" * size if rng.random() < 0.5 else rng.randbytes(size)
    return with_metadata(data, kind, body)


def damaged_metadata(rng: random.Random, data: bytes) -> bytes:
    """An EXIF (with an orientation, IFD offsets and counts that lie) or an ICC profile of random
    bytes: what exif_transpose and the colour conversion read."""
    kind = rng.choice(("exif", "icc", "xmp", "text"))
    if kind == "exif":
        good = _exif().tobytes()
        body = bit_flips(rng, good) if rng.random() < 0.7 else good[:8] + rng.randbytes(64)
    elif kind == "icc":
        good = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        body = bit_flips(rng, good) if rng.random() < 0.7 else rng.randbytes(rng.randint(0, 256))
    else:
        body = rng.randbytes(rng.randint(0, 512))
    return with_metadata(data, kind, body)


def lie_about_type(rng: random.Random, data: bytes) -> bytes:
    """Another format's magic in front, instead of its own, or two formats in one file."""
    other = rng.choice(seeds())
    magic = rng.choice(
        (PNG_MAGIC, b"\xff\xd8\xff\xe0", b"RIFF\0\0\0\0WEBPVP8 ", b"GIF89a", b"<svg", b"BM")
    )
    action = rng.randrange(4)
    if action == 0:
        return magic + data
    if action == 1:
        return magic + data[len(magic) :]
    if action == 2:
        return data[: rng.randrange(len(data))] + other
    return other[: len(other) // 2] + data


MUTATORS: tuple[Mutator, ...] = (
    bit_flips,
    byte_insert,
    byte_delete,
    truncate,
    overwrite,
    splice,
    png_lengths_and_crcs,
    png_reorder,
    dimensions,
    huge_metadata,
    damaged_metadata,
    lie_about_type,
)


@cache
def large_seeds() -> tuple[bytes, ...]:
    """Bigger files for the long runs (tens of milliseconds a case, too slow for the suite): a
    JPEG decoded at a reduced scale, a PNG and a WebP shrunk to 600 px, and an MPO (a JPEG with
    a second picture, as phones write them)."""
    big = _picture(2400, 1800, 3)
    frames = [_picture(320, 360, 1), _picture(320, 360, 2)]
    return (
        _save(big, "JPEG", quality=70),
        _save(big.resize((1200, 900)), "PNG"),
        _save(big, "WEBP"),
        _save(frames[0], "MPO", save_all=True, append_images=frames[1:]),
    )


def case(seed: int, number: int, *, large: bool = False) -> tuple[str, bytes]:
    """Case ``number`` of ``seed``: one to three mutations of one of the seeds, and their names."""
    rng = random.Random(seed * 1_000_003 + number)
    data = rng.choice(large_seeds() if large else seeds())
    names = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        mutate = rng.choice(MUTATORS)
        if mutate is huge_metadata and len(data) > METADATA_BYTES:
            continue  # one gigantic metadata per file is enough; the grant caps at 5 MB
        names.append(mutate.__name__)
        data = mutate(rng, data) if data else data
    # The grant lets nothing over VOJ_MAX_COVER_BYTES land.
    return "+".join(names), data[:MAX_UPLOAD_BYTES]


def outcome(data: bytes) -> str:
    """ "accepted" (the cover checked as a listener gets it) or the refusal's kind; any other
    exception propagates, and an invalid cover is an AssertionError."""
    try:
        out = cover_render(data)
    except CoverRejected as refused:
        assert refused.kind in KINDS and refused.reason, (refused.kind, refused.reason)
        return refused.kind
    assert len(out) <= OUTPUT_BYTES, len(out)
    image = Image.open(io.BytesIO(out))
    assert (image.format, image.mode) == ("JPEG", "RGB"), (image.format, image.mode)
    assert max(image.size) <= OUTPUT_SIDE, image.size
    assert not image.getexif() and not {"icc_profile", "exif", "comment", "xmp"} & set(image.info)
    image.load()
    return "accepted"


def run(seed: int, count: int, *, large: bool = False) -> tuple[Counter[str], list[str], int]:
    """The outcomes of ``count`` cases, the failures (case, mutations, error) and the highest
    peak of Python memory (tracemalloc) one case reached."""
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    peak = 0
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        for number in range(count):
            names, data = case(seed, number, large=large)
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
            try:
                outcomes[outcome(data)] += 1
            except Exception as error:
                failures.append(f"case {number} ({names}): {type(error).__name__}: {error}")
            used = tracemalloc.get_traced_memory()[1] - baseline
            peak = max(peak, used)
            if used > MEMORY_BOUND:
                failures.append(f"case {number} ({names}): {used} bytes of Python memory")
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return outcomes, failures, peak


def main(argv: list[str]) -> int:
    """``python -m tests.cover_fuzz [COUNT] [SEED] [--large]``: the outcomes, failures and
    time."""
    large = "--large" in argv
    argv = [a for a in argv if a != "--large"]
    count = int(argv[0]) if argv else 30_000
    seed = int(argv[1]) if len(argv) > 1 else 21
    started = time.perf_counter()
    outcomes, failures, peak = run(seed, count, large=large)
    elapsed = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    label = f"{count} cases{' (large)' if large else ''}, seed {seed}, {elapsed:.0f} s"
    print(f"{label}: {dict(sorted(outcomes.items()))}")
    print(f"peak Python memory of one case {peak / 2**20:.1f} MB, process peak RSS {rss} MB")
    for failure in failures:
        print(failure)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
