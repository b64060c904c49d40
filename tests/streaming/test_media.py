"""MP4 box walking and media inspection on synthetic and real files."""

import io
import struct

import pytest

from streaming.media import MediaRejected, check_container, inspect_media, walk_boxes
from tests.conftest import fixture_bytes


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def large_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


FTYP = box(b"ftyp", b"M4A \0\0\0\0M4A mp42isom")


def hdlr(handler: bytes) -> bytes:
    return box(b"hdlr", b"\0\0\0\0" + b"\0\0\0\0" + handler + b"\0" * 12)


def moov(*handlers: bytes) -> bytes:
    traks = b"".join(box(b"trak", box(b"mdia", hdlr(h))) for h in handlers)
    return box(b"moov", box(b"mvhd", b"\0" * 100) + traks)


def walk(data: bytes):
    return walk_boxes(io.BytesIO(data), len(data))


def test_walks_top_level_boxes():
    data = FTYP + box(b"free", b"1234") + large_box(b"mdat", b"x" * 10)
    assert [(b.type, b.offset, b.size, b.header_size) for b in walk(data)] == [
        ("ftyp", 0, len(FTYP), 8),
        ("free", len(FTYP), 12, 8),
        ("mdat", len(FTYP) + 12, 26, 16),
    ]


def test_size_zero_runs_to_end():
    data = FTYP + struct.pack(">I4s", 0, b"mdat") + b"x" * 50
    assert walk(data)[-1].size == 58


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (FTYP + b"\0\0", "inside a box header"),
        (FTYP + struct.pack(">I4s", 4, b"free"), "impossible size"),
        (FTYP + struct.pack(">I4s", 1000, b"mdat") + b"x" * 10, "truncated"),
        (FTYP + struct.pack(">I4sQ", 1, b"mdat", 10**9), "truncated"),
        (FTYP + struct.pack(">I4s", 1, b"mdat"), "inside the header"),
        (box(b"free") * 65, "more than 64"),
    ],
)
def test_broken_structures(data, message):
    with pytest.raises(MediaRejected, match=message):
        walk(data)


def check(data: bytes):
    return check_container(io.BytesIO(data), len(data))


def test_faststart_is_moov_before_mdat():
    mdat = box(b"mdat", b"x" * 10)
    assert check(FTYP + moov(b"soun") + mdat)[2] is True
    assert check(FTYP + mdat + moov(b"soun"))[2] is False


def test_needs_an_audio_track():
    mdat = box(b"mdat", b"x")
    assert check(FTYP + moov(b"vide", b"soun") + mdat)[0] == "M4A "
    with pytest.raises(MediaRejected, match="no audio track"):
        check(FTYP + moov(b"vide") + mdat)
    with pytest.raises(MediaRejected, match="no audio track"):
        check(FTYP + moov() + mdat)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"ID3\x03\0\0\0\0\0\0" + b"\xff\xfb" * 100, "ftyp"),
        (box(b"moov") + FTYP, "ftyp"),
        (box(b"ftyp", b"qt  \0\0\0\0qt  ") + moov(b"soun") + box(b"mdat"), "not an MP4/M4A brand"),
        (FTYP + box(b"mdat", b"x"), "no 'moov'"),
        (FTYP + moov(b"soun"), "no 'mdat'"),
        (box(b"ftyp", b"M4A"), "implausible"),
    ],
)
def test_rejected_containers(data, message):
    with pytest.raises(MediaRejected, match=message):
        check(data)


def test_real_files():
    report = inspect_media(
        io.BytesIO(fixture_bytes("tone-faststart.m4a")), len(fixture_bytes("tone-faststart.m4a"))
    )
    assert report.brand == "M4A"
    assert report.faststart is True
    assert report.duration_seconds == pytest.approx(2.046, abs=0.01)
    assert report.codec.startswith("mp4a")
    late = fixture_bytes("tone-moov-at-end.m4a")
    assert inspect_media(io.BytesIO(late), len(late)).faststart is False


def test_real_video_without_audio():
    data = fixture_bytes("video-no-audio.mp4")
    with pytest.raises(MediaRejected, match="no audio track"):
        inspect_media(io.BytesIO(data), len(data))


class CountingReader(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n=-1):
        chunk = super().read(n)
        self.bytes_read += len(chunk)
        return chunk


def test_reads_only_headers_and_moov():
    data = fixture_bytes("tone-faststart.m4a")
    big = data + box(b"free", b"\0" * 5_000_000)
    reader = CountingReader(big)
    check_container(reader, len(big))
    assert reader.bytes_read < 2_000


def _ftyp(major: bytes, *compatible: bytes, pad: bytes = b"") -> bytes:
    return box(b"ftyp", major + b"\0\0\0\0" + b"".join(compatible) + pad)


AUDIO = moov(b"soun") + box(b"mdat", b"x")


@pytest.mark.parametrize(
    ("ftyp", "brand"),
    [
        (_ftyp(b"M4A ", b"mp42", b"isom"), "M4A "),  # the major brand when it is one of ours
        (_ftyp(b"mp42", b"M4A "), "mp42"),
        (_ftyp(b"qt  ", b"mp42", b"isom"), "isom"),  # else the first of ours, in sorted order
        (_ftyp(b"qt  ", b"qt  ", b"M4B "), "M4B "),  # a compatible brand alone qualifies
        (_ftyp(b"M4A "), "M4A "),  # no compatible brands at all
    ],
)
def test_brand_choice(ftyp, brand):
    assert check(ftyp + AUDIO)[0] == brand


def test_only_whole_compatible_brands_count():
    # Three trailing bytes are not a brand: "mp4" must not be read as one.
    with pytest.raises(MediaRejected, match="not an MP4/M4A brand"):
        check(_ftyp(b"qt  ", pad=b"mp4") + AUDIO)
    assert check(_ftyp(b"qt  ", b"mp42", pad=b"mp4") + AUDIO)[0] == "mp42"


def test_ftyp_size_limits():
    from streaming.media import MAX_FTYP_SIZE

    largest = _ftyp(b"M4A ", pad=b"\0" * (MAX_FTYP_SIZE - 16))
    assert len(largest) == MAX_FTYP_SIZE
    assert check(largest + AUDIO)[0] == "M4A "
    with pytest.raises(MediaRejected, match="implausible"):
        check(_ftyp(b"M4A ", pad=b"\0" * (MAX_FTYP_SIZE - 15)) + AUDIO)
    smallest = box(b"ftyp", b"M4A \0\0\0\0")
    assert check(smallest + AUDIO)[0] == "M4A "
    with pytest.raises(MediaRejected, match="implausible"):
        check(box(b"ftyp", b"M4A \0\0\0") + AUDIO)
