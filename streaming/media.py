"""What an uploaded file really is: MP4 box walking, brand, audio track, duration, faststart.

Works on any seekable binary reader and touches only box headers and ``moov``: on S3 the reader
turns each read into a ranged GET, so a 100 MB upload costs a few small requests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from mutagen.mp4 import MP4Info

# Major or compatible brands of the MP4 family (ISO BMFF with MPEG-4 / Apple audio brands).
MP4_BRANDS = frozenset(
    {
        "M4A ",
        "M4B ",
        "M4P ",
        "M4V ",
        "mp41",
        "mp42",
        "mp71",
        "isom",
        "iso2",
        "iso3",
        "iso4",
        "iso5",
        "iso6",
        "iso7",
        "iso8",
        "iso9",
        "avc1",
        "dash",
        "MSNV",
        "f4a ",
        "f4v ",
        "NDAS",
    }
)
MAX_BOXES_PER_LEVEL = 64
MAX_FTYP_SIZE = 4096


class Reader(Protocol):
    """What the inspection (and mutagen) use of a reader: a file, BytesIO or S3's ranged one."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...


class MediaRejected(Exception):
    """The bytes are not a playable MP4/M4A audio file; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Box:
    type: str
    offset: int
    size: int
    header_size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True, slots=True)
class MediaReport:
    brand: str
    boxes: tuple[Box, ...]
    faststart: bool
    duration_seconds: float
    codec: str
    channels: int
    sample_rate: int


def _read_exact(reader: Reader, offset: int, length: int) -> bytes:
    reader.seek(offset)
    return reader.read(length)


def _box_type(raw: bytes) -> str:
    return raw.decode("latin-1")


def walk_boxes(reader: Reader, size: int) -> list[Box]:
    """The top-level boxes, checked to tile the file exactly.

    Raises MediaRejected for a header cut short, a box that runs past the end of the file
    (a truncated upload), or an impossible size.
    """
    return _walk(reader, 0, size, where="the file")


def child_boxes(reader: Reader, parent: Box) -> list[Box]:
    """The boxes inside a container box (moov, trak, mdia, ...)."""
    return _walk(reader, parent.offset + parent.header_size, parent.end, where=f"'{parent.type}'")


def _walk(reader: Reader, start: int, end: int, *, where: str) -> list[Box]:
    boxes: list[Box] = []
    offset = start
    while offset < end:
        if len(boxes) >= MAX_BOXES_PER_LEVEL:
            raise MediaRejected(f"more than {MAX_BOXES_PER_LEVEL} boxes in {where}")
        header = _read_exact(reader, offset, min(16, end - offset))
        if len(header) < 8:
            raise MediaRejected(f"{where} ends inside a box header at offset {offset}")
        box_size, raw_type = struct.unpack(">I4s", header[:8])
        box_type = _box_type(raw_type)
        header_size = 8
        if box_size == 1:
            if len(header) < 16:
                raise MediaRejected(f"{where} ends inside the header of '{box_type}' at {offset}")
            (box_size,) = struct.unpack(">Q", header[8:16])
            header_size = 16
        elif box_size == 0:
            box_size = end - offset  # "extends to the end of the file"
        if box_size < header_size:
            raise MediaRejected(
                f"box '{box_type}' at offset {offset} has an impossible size {box_size}"
            )
        if offset + box_size > end:
            raise MediaRejected(
                f"box '{box_type}' at offset {offset} declares {box_size} bytes but {where} "
                f"ends after {end - offset}: the upload is truncated"
            )
        boxes.append(Box(box_type, offset, box_size, header_size))
        offset += box_size
    return boxes


def _first(boxes: list[Box], box_type: str) -> Box | None:
    return next((b for b in boxes if b.type == box_type), None)


def has_audio_track(reader: Reader, moov: Box) -> bool:
    """Whether any trak's handler (moov/trak/mdia/hdlr) is 'soun'."""
    for trak in (b for b in child_boxes(reader, moov) if b.type == "trak"):
        mdia = _first(child_boxes(reader, trak), "mdia")
        hdlr = mdia and _first(child_boxes(reader, mdia), "hdlr")
        if hdlr is None:
            continue
        # FullBox header (4), pre_defined (4), then the handler type.
        payload = _read_exact(reader, hdlr.offset + hdlr.header_size, 12)
        if payload[8:12] == b"soun":
            return True
    return False


def read_brands(reader: Reader, ftyp: Box) -> tuple[str, list[str]]:
    if ftyp.size > MAX_FTYP_SIZE or ftyp.size < ftyp.header_size + 8:
        raise MediaRejected(f"'ftyp' box has an implausible size {ftyp.size}")
    payload = _read_exact(reader, ftyp.offset + ftyp.header_size, ftyp.size - ftyp.header_size)
    major = _box_type(payload[:4])
    compatible = [_box_type(payload[i : i + 4]) for i in range(8, len(payload) - 3, 4)]
    return major, compatible


def check_container(reader: Reader, size: int) -> tuple[str, list[Box], bool]:
    """ftyp first with an MP4-family brand, boxes intact, moov and mdat present, and a track
    whose handler is audio.

    Returns the brand, the boxes and whether the file is faststart (moov before mdat).
    """
    if size <= 0:
        raise MediaRejected("the file is empty")
    head = _read_exact(reader, 0, 8)
    if len(head) < 8 or head[4:8] != b"ftyp":
        raise MediaRejected("not an MP4/M4A file: it does not start with an 'ftyp' box")
    boxes = walk_boxes(reader, size)
    major, compatible = read_brands(reader, boxes[0])
    brands = {major, *compatible}
    if not brands & MP4_BRANDS:
        raise MediaRejected(f"'{major.strip()}' is not an MP4/M4A brand")
    brand = major if major in MP4_BRANDS else sorted(brands & MP4_BRANDS)[0]
    moov = _first(boxes, "moov")
    mdat = _first(boxes, "mdat")
    if moov is None:
        raise MediaRejected("no 'moov' box: the file has no track metadata")
    if mdat is None:
        raise MediaRejected("no 'mdat' box: the file has no media data")
    if not has_audio_track(reader, moov):
        raise MediaRejected("no audio track")
    return brand, boxes, moov.offset < mdat.offset


def inspect_media(reader: Reader, size: int) -> MediaReport:
    """Everything completion and the operator check need to know about an upload."""
    brand, boxes, faststart = check_container(reader, size)

    # mutagen: 26-90 ms at first import (-X importtime), needed only where audio is examined.
    from mutagen import MutagenError  # noqa: PLC0415 - mutagen: 26-90 ms cold, examining audio only
    from mutagen.mp4 import MP4  # noqa: PLC0415 - mutagen: 26-90 ms cold, examining audio only

    try:
        # mutagen reads from the start whatever the position. Its FileType declares info = None;
        # MP4 sets an MP4Info when it loads.
        info = cast("MP4Info", MP4(reader).info)
    except (MutagenError, struct.error, ValueError, EOFError) as error:
        raise MediaRejected(f"unreadable MP4 metadata: {error}") from None
    duration = float(info.length or 0)
    if duration <= 0:
        raise MediaRejected("the audio track has no duration")
    return MediaReport(
        brand=brand.strip(),
        boxes=tuple(boxes),
        faststart=faststart,
        duration_seconds=round(duration, 3),
        # MP4Info always has these (0 or "" when the track does not say).
        codec=str(info.codec),
        channels=int(info.channels),
        sample_rate=int(info.sample_rate),
    )
