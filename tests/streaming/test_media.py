"""MP4 box walking and media inspection on synthetic and real files."""

import io
import struct

import pytest

from streaming.media import (
    Box,
    MediaRejected,
    check_container,
    child_boxes,
    inspect_media,
    walk_boxes,
)
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


# The reasons are what an editor reads as the chapter's failure_reason: checked word for word.
F = len(FTYP)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (FTYP + b"\0\0", f"the file ends inside a box header at offset {F}"),
        (
            FTYP + struct.pack(">I4s", 4, b"free"),
            f"box 'free' at offset {F} has an impossible size 4",
        ),
        (
            FTYP + struct.pack(">I4s", 1000, b"mdat") + b"x" * 10,
            f"box 'mdat' at offset {F} declares 1000 bytes but the file ends after 18: "
            "the upload is truncated",
        ),
        (
            FTYP + struct.pack(">I4sQ", 1, b"mdat", 10**9),
            f"box 'mdat' at offset {F} declares 1000000000 bytes but the file ends after 16: "
            "the upload is truncated",
        ),
        (
            FTYP + struct.pack(">I4s", 1, b"mdat"),
            f"the file ends inside the header of 'mdat' at {F}",
        ),
        (
            FTYP + struct.pack(">I4sI", 1, b"mdat", 0),
            f"the file ends inside the header of 'mdat' at {F}",
        ),
        (box(b"free") * 65, "more than 64 boxes in the file"),
    ],
)
def test_broken_structures(data, reason):
    with pytest.raises(MediaRejected) as rejected:
        walk(data)
    assert rejected.value.reason == reason
    assert str(rejected.value) == reason


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        # 32-bit and 64-bit sizes are unsigned: 2 GiB and 2**63 are truncation, not negative
        (2**31, f"box 'mdat' at offset {F} declares 2147483648 bytes"),
        (2**32 - 1, f"box 'mdat' at offset {F} declares 4294967295 bytes"),
    ],
)
def test_box_sizes_are_unsigned_32_bits(size, reason):
    with pytest.raises(MediaRejected) as rejected:
        walk(FTYP + struct.pack(">I4s", size, b"mdat") + b"x" * 8)
    assert rejected.value.reason.startswith(reason)


def test_large_box_sizes_are_unsigned_64_bits():
    with pytest.raises(MediaRejected) as rejected:
        walk(FTYP + struct.pack(">I4sQ", 1, b"mdat", 2**63) + b"x" * 8)
    assert rejected.value.reason.startswith(f"box 'mdat' at offset {F} declares {2**63} bytes")


def test_a_child_box_header_cut_by_its_parent_is_refused_though_the_file_goes_on():
    """The parent's end bounds every read of its children: bytes of the next top-level box
    are never read as the rest of a child's header."""
    mdat = box(b"mdat", b"x" * 32)
    for tail, reason in (
        (b"\0\0\0", "'moov' ends inside a box header at offset 16"),
        (struct.pack(">I4s", 1, b"free"), "'moov' ends inside the header of 'free' at 16"),
    ):
        moov_box = box(b"moov", box(b"mvhd") + tail)
        data = moov_box + mdat
        with pytest.raises(MediaRejected) as rejected:
            child_boxes(io.BytesIO(data), walk(data)[0])
        assert rejected.value.reason == reason


def test_at_most_64_boxes_per_level():
    assert len(walk(box(b"free") * 64)) == 64
    inner = box(b"moov", box(b"free") * 65)
    with pytest.raises(MediaRejected) as rejected:
        child_boxes(io.BytesIO(inner), walk(inner)[0])
    assert rejected.value.reason == "more than 64 boxes in 'moov'"


def test_a_box_header_is_read_whole_at_the_end_of_its_parent():
    # A 64-bit size needs all 16 header bytes; a box that ends the file exactly is whole.
    data = FTYP + large_box(b"mdat", b"")
    assert walk(data)[-1] == Box("mdat", F, 16, 16)
    assert walk(data)[-1].end == len(data)


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


NOT_MP4 = "not an MP4/M4A file: it does not start with an 'ftyp' box"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"\0", NOT_MP4),
        (b"ID3\x03\0\0\0\0\0\0" + b"\xff\xfb" * 100, NOT_MP4),
        (box(b"moov") + FTYP, NOT_MP4),
        (b"\0\0\0\x08fty", NOT_MP4),  # shorter than one box header
        (
            box(b"ftyp", b"qt  \0\0\0\0qt  ") + moov(b"soun") + box(b"mdat"),
            "'qt' is not an MP4/M4A brand",
        ),
        (FTYP + box(b"mdat", b"x"), "no 'moov' box: the file has no track metadata"),
        (FTYP + moov(b"soun"), "no 'mdat' box: the file has no media data"),
        (box(b"ftyp", b"M4A"), "'ftyp' box has an implausible size 11"),
        (FTYP + moov(b"vide") + box(b"mdat"), "no audio track"),
    ],
)
def test_rejected_containers(data, reason):
    with pytest.raises(MediaRejected) as rejected:
        check(data)
    assert rejected.value.reason == reason


# Every brand voj accepts, as the only brand of an otherwise valid file.
ACCEPTED_BRANDS = [
    "M4A ", "M4B ", "M4P ", "M4V ", "mp41", "mp42", "mp71", "isom", "iso2", "iso3", "iso4",
    "iso5", "iso6", "iso7", "iso8", "iso9", "avc1", "dash", "MSNV", "f4a ", "f4v ", "NDAS",
]  # fmt: skip


@pytest.mark.parametrize("brand", ACCEPTED_BRANDS)
def test_each_mp4_family_brand_is_accepted(brand):
    major_only = box(b"ftyp", brand.encode() + b"\0\0\0\0")
    assert check(major_only + AUDIO)[0] == brand
    compatible_only = _ftyp(b"qt  ", brand.encode())
    assert check(compatible_only + AUDIO)[0] == brand


def test_no_other_brand_is_accepted():
    from streaming.media import MP4_BRANDS

    assert sorted(MP4_BRANDS) == sorted(ACCEPTED_BRANDS)


def test_real_files():
    report = inspect_media(
        io.BytesIO(fixture_bytes("tone-faststart.m4a")), len(fixture_bytes("tone-faststart.m4a"))
    )
    assert report.brand == "M4A"
    assert report.faststart is True
    assert report.duration_seconds == 2.046  # 2.04643... from mutagen, to the millisecond
    assert (report.codec, report.channels, report.sample_rate) == ("mp4a.40.2", 2, 22050)
    assert [b.type for b in report.boxes] == ["ftyp", "moov", "free", "mdat"]
    late = fixture_bytes("tone-moov-at-end.m4a")
    assert inspect_media(io.BytesIO(late), len(late)).faststart is False


def test_an_audio_track_without_duration_is_rejected():
    data = bytearray(fixture_bytes("tone-faststart.m4a"))
    mdhd = data.find(b"mdhd")
    assert data[mdhd + 4] == 0  # version 0: the duration is the 32 bits after the timescale
    data[mdhd + 20 : mdhd + 24] = b"\0\0\0\0"
    with pytest.raises(MediaRejected) as rejected:
        inspect_media(io.BytesIO(bytes(data)), len(data))
    assert rejected.value.reason == "the audio track has no duration"


def test_a_chapter_under_a_second_is_accepted():
    data = bytearray(fixture_bytes("tone-faststart.m4a"))
    mdhd = data.find(b"mdhd")
    timescale = struct.unpack(">I", data[mdhd + 16 : mdhd + 20])[0]
    data[mdhd + 20 : mdhd + 24] = struct.pack(">I", timescale // 2)
    assert inspect_media(io.BytesIO(bytes(data)), len(data)).duration_seconds == 0.5


def test_unreadable_metadata_is_rejected_with_the_parser_s_reason():
    # Box structure intact, but the moov holds nothing mutagen can read.
    data = FTYP + moov(b"soun") + box(b"mdat", b"x")
    with pytest.raises(MediaRejected) as rejected:
        inspect_media(io.BytesIO(data), len(data))
    assert rejected.value.reason.startswith("unreadable MP4 metadata: ")


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


def test_a_trak_without_a_handler_does_not_hide_a_later_audio_trak():
    bare = box(b"trak", box(b"tkhd"))
    tracks = box(b"moov", box(b"mvhd") + bare + box(b"trak", box(b"mdia", hdlr(b"soun"))))
    assert check(FTYP + tracks + box(b"mdat", b"x"))[0] == "M4A "


def test_brands_are_read_from_the_ftyp_box_only():
    # The next box's bytes hold a brand; they are not the ftyp's.
    data = box(b"ftyp", b"qt  \0\0\0\0qt  ") + box(b"free", b"isomisom") + AUDIO
    with pytest.raises(MediaRejected, match="not an MP4/M4A brand"):
        check(data)


def test_brands_are_read_at_four_byte_steps_only():
    # "xmp4" "2iso" holds "mp42" across the two, at an offset that is no brand's.
    with pytest.raises(MediaRejected, match="not an MP4/M4A brand"):
        check(_ftyp(b"qt  ", b"xmp4", b"2iso") + AUDIO)


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
