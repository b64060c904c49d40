"""Keys and items: the mapping between DynamoDB items and the domain types (see
listening/repository/tables.py for the layout and why it is this compact).

Items are built as AttributeValues by hand: a progress report is the hot path of the service,
and this is the one mapping it runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from listening.domain import Bookmark, Position, Progress
from listening.repository.tables import BOOKMARK_PREFIX, COUNTER_PREFIX, PROGRESS_PREFIX

Item = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: a time as a Number that sorts and compares as times do."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(value: str | int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


def number(value: int | float | Decimal) -> dict[str, str]:
    # repr of a float is the shortest text that reads back as the same float.
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def exact(value: float) -> Decimal:
    """A position as DynamoDB stores and compares it."""
    return Decimal(repr(value))


def compact_id(value: str) -> dict[str, Any]:
    """A UUID as 16 bytes instead of 36 characters; anything else as it is."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return {"S": value}
    return {"B": parsed.bytes} if str(parsed) == value else {"S": value}


def expand_id(value: dict[str, Any]) -> str:
    if "B" in value:
        return str(uuid.UUID(bytes=bytes(value["B"])))
    return value["S"]


# --- keys --------------------------------------------------------------------------------------


def user_key(user_id: int) -> dict[str, str]:
    return {"N": str(user_id)}


def progress_key(user_id: int, book_id: str) -> Item:
    return {"pk": user_key(user_id), "sk": {"S": PROGRESS_PREFIX + book_id}}


def bookmark_key(user_id: int, bookmark_id: str) -> Item:
    return {"pk": user_key(user_id), "sk": {"S": BOOKMARK_PREFIX + bookmark_id}}


def counter_key(user_id: int, book_id: str) -> Item:
    return {"pk": user_key(user_id), "sk": {"S": COUNTER_PREFIX + book_id}}


def is_counter(key: Item) -> bool:
    return key["sk"]["S"].startswith(COUNTER_PREFIX)


# --- progress ----------------------------------------------------------------------------------


def report_values(report: Position) -> Item:
    """The ExpressionAttributeValues of a report: ``:t`` time, ``:c`` chapter id, ``:n``
    chapter number, ``:p`` position, ``:d`` device."""
    return {
        ":t": number(micros(report.updated_at)),
        ":c": compact_id(report.chapter_id),
        ":n": number(report.chapter_number),
        ":p": number(report.position_seconds),
        ":d": {"S": report.device},
    }


def stored_order(item: Item) -> tuple[int, Decimal]:
    return (int(item["fn"]["N"]), Decimal(item["fp"]["N"]))


def _position(item: Item, prefix: str) -> Position:
    return Position(
        chapter_id=expand_id(item[f"{prefix}c"]),
        chapter_number=int(item[f"{prefix}n"]["N"]),
        position_seconds=float(item[f"{prefix}p"]["N"]),
        updated_at=from_micros(item[f"{prefix}t"]["N"]),
        device=item[f"{prefix}d"]["S"],
    )


def item_to_progress(item: Item) -> Progress:
    return Progress(
        user_id=int(item["pk"]["N"]),
        book_id=item["sk"]["S"].removeprefix(PROGRESS_PREFIX),
        latest=_position(item, "l"),
        furthest=_position(item, "f"),
        finished=bool(item.get("f", {}).get("BOOL", False)),
    )


# --- bookmarks ---------------------------------------------------------------------------------


def book_order_key(bookmark: Bookmark) -> str:
    """Sorts as (chapter number, position, id): numbers zero-padded, the position in whole
    microseconds (15 digits: 31 years)."""
    position = round(bookmark.position_seconds * 1_000_000)
    return f"{bookmark.book_id}#{bookmark.chapter_number:06d}#{position:015d}#{bookmark.id}"


def created_key(bookmark: Bookmark) -> str:
    return f"{micros(bookmark.created_at):017d}#{bookmark.id}"


def bookmark_changes(bookmark: Bookmark) -> Item:
    """What an edit may change, as ExpressionAttributeValues (with the order key it implies)."""
    return {
        ":ci": {"S": bookmark.chapter_id},
        ":cn": number(bookmark.chapter_number),
        ":cp": number(bookmark.position_seconds),
        ":nt": {"S": bookmark.note},
        ":ua": number(micros(bookmark.updated_at)),
        ":o": {"S": book_order_key(bookmark)},
    }


def bookmark_to_item(bookmark: Bookmark) -> Item:
    return {
        **bookmark_key(bookmark.user_id, bookmark.id),
        "b": {"S": bookmark.book_id},
        "ci": {"S": bookmark.chapter_id},
        "cn": number(bookmark.chapter_number),
        "cp": number(bookmark.position_seconds),
        "nt": {"S": bookmark.note},
        "ca": number(micros(bookmark.created_at)),
        "ua": number(micros(bookmark.updated_at)),
        "v": number(bookmark.version),
        "o": {"S": book_order_key(bookmark)},
        "c": {"S": created_key(bookmark)},
    }


def item_to_bookmark(item: Item) -> Bookmark:
    return Bookmark(
        id=item["sk"]["S"].removeprefix(BOOKMARK_PREFIX),
        user_id=int(item["pk"]["N"]),
        book_id=item["b"]["S"],
        chapter_id=item["ci"]["S"],
        chapter_number=int(item["cn"]["N"]),
        position_seconds=float(item["cp"]["N"]),
        note=item.get("nt", {}).get("S", ""),
        created_at=from_micros(item["ca"]["N"]),
        updated_at=from_micros(item["ua"]["N"]),
        version=int(item["v"]["N"]),
    )
