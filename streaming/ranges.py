"""HTTP Range parsing (RFC 9110 §14) for one byte range."""

from __future__ import annotations

import re
from dataclasses import dataclass

from voj.digits import MAX_DIGITS

# ASCII digits only: \d would also match other scripts' digits.
_SPEC = re.compile(r"^([0-9]*)-([0-9]*)$")
# RFC 9110 sets no length on a position; one longer than MAX_DIGITS is past the end of any file
# voj serves, so it is read as this bound rather than converted.
_PAST_ANY_END = 10**MAX_DIGITS


class RangeNotSatisfiable(Exception):
    code = "range_not_satisfiable"


class MalformedRange(RangeNotSatisfiable):
    code = "invalid_range"


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to serve, or None to serve the whole representation.

    None for no header, another unit (which a server must ignore) and several ranges (which a
    server may ignore; players ask for one). MalformedRange for a bytes range we cannot parse,
    RangeNotSatisfiable for one that misses the file.
    """
    if not header:
        return None
    unit, sep, specs = header.strip().partition("=")
    if not sep:
        raise MalformedRange(f"malformed Range header: {header!r}")
    if unit.strip().lower() != "bytes":
        return None
    parts = [part.strip() for part in specs.split(",")]
    if len(parts) > 1:
        if any(not _SPEC.fullmatch(part) or part == "-" for part in parts):
            raise MalformedRange(f"malformed Range header: {header!r}")
        return None
    match = _SPEC.fullmatch(parts[0])
    if not match or parts[0] == "-":
        raise MalformedRange(f"malformed Range header: {header!r}")
    first, last = (_position(text) for text in match.groups())
    if first is None:
        suffix = last or 0
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable("empty suffix range")
        return ByteRange(max(0, size - suffix), size - 1)
    start = first
    if last is not None and last < start:
        raise MalformedRange(f"malformed Range header: {header!r}")
    if start >= size:
        raise RangeNotSatisfiable(f"range starts at {start}, the file has {size} bytes")
    end = min(last, size - 1) if last is not None else size - 1
    return ByteRange(start, end)


def _position(text: str) -> int | None:
    if not text:
        return None
    return int(text) if len(text) <= MAX_DIGITS else _PAST_ANY_END
