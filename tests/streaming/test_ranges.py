import pytest

from streaming.ranges import ByteRange, MalformedRange, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("", 100, None),
        ("bytes=0-0", 100, ByteRange(0, 0)),
        ("bytes=0-99", 100, ByteRange(0, 99)),
        ("bytes=0-1000", 100, ByteRange(0, 99)),
        ("bytes=50-", 100, ByteRange(50, 99)),
        ("bytes=-10", 100, ByteRange(90, 99)),
        ("bytes=-100", 100, ByteRange(0, 99)),
        ("bytes=-1000", 100, ByteRange(0, 99)),
        ("BYTES=1-2", 100, ByteRange(1, 2)),
        (" bytes=1-2 ", 100, ByteRange(1, 2)),
        ("items=0-1", 100, None),
        ("bytes=0-1, 5-6", 100, None),
    ],
)
def test_parse(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size", "message"),
    [
        ("bytes=100-", 100, "range starts at 100, the file has 100 bytes"),
        ("bytes=100-200", 100, "range starts at 100, the file has 100 bytes"),
        ("bytes=-0", 100, "empty suffix range"),
        ("bytes=0-", 0, "range starts at 0, the file has 0 bytes"),
        ("bytes=-5", 0, "empty suffix range"),
    ],
)
def test_unsatisfiable(header, size, message):
    with pytest.raises(RangeNotSatisfiable) as info:
        parse_range(header, size)
    assert not isinstance(info.value, MalformedRange)
    assert str(info.value) == message  # the 416 answer's detail


@pytest.mark.parametrize(
    "header",
    [
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=a-b",
        "bytes=5-3",
        "bytes=1-2-3",
        "bytes=--1",
        "bytes=0x1-2",
        "bytes=1-2,x",
        "bytes=0-1=5",  # the unit ends at the first "=", not the last
        "bytes =0-1=5",
        "bytes=0-1,-",
    ],
)
def test_malformed(header):
    with pytest.raises(MalformedRange) as info:
        parse_range(header, 100)
    assert str(info.value) == f"malformed Range header: {header!r}"


def test_content_range():
    assert ByteRange(0, 127).content_range(1000) == "bytes 0-127/1000"
    assert ByteRange(5, 9).length == 5
