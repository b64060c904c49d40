"""Write and read units of what listeners keep (progress, bookmarks), measured on AWS's DynamoDB
Local like the catalogue's (deploy/bench/dynamodb.py, which writes them into its section).

Every call goes through the listening DynamoDB repository (listening/repository/dynamodb; the
table is described in listening/repository/tables.py), on a client that asks every request for
``ReturnConsumedCapacity=INDEXES``. Each call is measured twice: with small items (a short device
name, bookmarks without a note) and with the largest the API takes (a device name of 100 4-byte
characters, a note of 1,000).
"""

from __future__ import annotations

import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from books.domain import new_id
from deploy.bench.capacity import Capacity, Figures, bench_client
from listening.domain import Bookmark, Position
from listening.repository.dynamodb import DynamoDBListeningRepository
from listening.repository.tables import create_listening_table

GOAL_REPORT_WCU = 1  # a progress report that is not the listener's first in the book
SHELVES = (10, 100, 1000)  # books started by the listener whose shelf is read
FORGET_LISTENERS = (10, 100)  # listeners of the book forgotten, each with progress and a bookmark
PAGE_SIZE = 20  # the API's page (VOJ_PAGE_SIZE's default)
BOOKMARK_LIMIT = 1000
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


class Items(NamedTuple):
    label: str
    device: str
    note: str


SMALL = Items("small", "Pixel 8", "")
LARGEST = Items("largest", "🎧" * 100, "🔖" * 1000)

# The four report cases and the fifth that changes nothing, in the order they are sent:
# (row, chapter number, position in seconds, minutes after T0, moves latest, moves furthest).
# Each is checked against what the repository says it did, so a row is the case it names.
REPORTS = (
    ("progress report, the first in the book", 1, 61.25, 0, True, True),
    ("progress report, newer and further", 2, 30.5, 10, True, True),
    ("progress report, newer only", 1, 120.75, 20, True, False),
    ("progress report, late and further", 3, 15.0, 15, False, True),
    ("progress report, late and behind (writes nothing)", 1, 5.0, 5, False, False),
)


def chapter(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def shelf_row(size: int) -> str:
    return f"shelf (first page), {size:,} books started"


def forget_row(size: int) -> str:
    return f"book forget, {size:,} listeners"


def report(items: Items, number: int, seconds: float, minutes: float) -> Position:
    return Position(
        chapter_id=chapter(number),
        chapter_number=number,
        position_seconds=seconds,
        updated_at=T0 + timedelta(minutes=minutes),
        device=items.device,
    )


def measure(
    endpoint: str,
    *,
    shelves: tuple[int, ...] = SHELVES,
    listeners: tuple[int, ...] = FORGET_LISTENERS,
) -> dict[str, Figures]:
    """By item size: each repository call's (write units, read units, requests)."""
    client = bench_client(endpoint)
    table = f"bench-listening-{uuid.uuid4().hex[:8]}"
    create_listening_table(client, table)
    repository = DynamoDBListeningRepository(client=client, table=table)
    capacity = Capacity(client)
    try:
        measured: dict[str, Figures] = {}
        for offset, items in enumerate((SMALL, LARGEST)):
            bench = Bench(repository, capacity, items, first_user=1 + offset * 1_000_000)
            bench.reports()
            bench.bookmarks()
            bench.shelves(shelves)
            bench.forgets(listeners)
            measured[items.label] = bench.figures
        return measured
    finally:
        client.delete_table(TableName=table)


class Bench:
    """The calls of one item size, each listener a user id of its own."""

    def __init__(
        self,
        repository: DynamoDBListeningRepository,
        capacity: Capacity,
        items: Items,
        *,
        first_user: int,
    ) -> None:
        self.repository = repository
        self.items = items
        self.figures: Figures = {}
        self.measured = capacity.recorder(self.figures)
        self.next_user = first_user

    def user(self) -> int:
        self.next_user += 1
        return self.next_user

    def record(self, user_id: int, book_id: str, position: Position) -> Any:
        return self.repository.progress_record(
            user_id=user_id, book_id=book_id, report=position, finishes=False
        )

    def reports(self) -> None:
        user, book = self.user(), new_id()
        for name, number, seconds, minutes, *expected in REPORTS:
            position = report(self.items, number, seconds, minutes)
            write = self.measured(name, partial(self.record, user, book, position))
            progress = write.progress
            moved = [progress.latest == position, progress.furthest == position]
            assert moved == expected and write.applied == moved[0], (name, write)

    def bookmarks(self) -> None:
        user, book = self.user(), new_id()

        def create() -> Bookmark:
            bookmark = Bookmark(
                user_id=user,
                book_id=book,
                chapter_id=chapter(2),
                chapter_number=2,
                position_seconds=754.125,
                note=self.items.note,
            )
            return self.repository.bookmark_create(bookmark, per_book_limit=BOOKMARK_LIMIT)

        self.measured("bookmark create, the first in the book", create)
        second = self.measured("bookmark create, another", create)
        self.measured(
            "bookmark delete",
            lambda: self.repository.bookmark_delete(user_id=user, bookmark_id=second.id),
        )

    def shelves(self, sizes: tuple[int, ...]) -> None:
        for size in sizes:
            user = self.user()
            for index in range(size):
                self.record(user, new_id(), report(self.items, 1, 60.5, index))
            page = self.measured(
                shelf_row(size),
                partial(self.repository.progress_list, user_id=user, limit=PAGE_SIZE),
            )
            assert len(page.items) == min(size, PAGE_SIZE), (size, page)

    def forgets(self, sizes: tuple[int, ...]) -> None:
        for size in sizes:
            book = new_id()
            users = [self.user() for _ in range(size)]
            for user in users:
                self.record(user, book, report(self.items, 1, 60.5, 0))
                self.repository.bookmark_create(
                    Bookmark(
                        user_id=user,
                        book_id=book,
                        chapter_id=chapter(1),
                        chapter_number=1,
                        position_seconds=30.0,
                        note=self.items.note,
                    ),
                    per_book_limit=BOOKMARK_LIMIT,
                )
            self.measured(forget_row(size), partial(self.repository.book_forget, book_id=book))
            left = self.repository.bookmark_list(user_id=users[-1], book_id=book, limit=1)
            assert not left.items, left


def table(measured: dict[str, Figures]) -> str:
    """One row per call; write units, read units and requests for each item size."""
    labels = list(measured)
    header = "| call | " + " | ".join(
        f"{kind}, {label}" for label in labels for kind in ("WCU", "RCU", "requests")
    )
    rows = [header + " |", "|---" * (3 * len(labels) + 1) + "|"]
    for name in measured[labels[0]]:
        cells = " | ".join(
            f"{write:g} | {read:g} | {requests}"
            for write, read, requests in (figures[name] for figures in measured.values())
        )
        rows.append(f"| {name} | {cells} |")
    return "\n".join(rows)


def section(
    measured: dict[str, Figures],
    *,
    shelves: tuple[int, ...] = SHELVES,
    listeners: tuple[int, ...] = FORGET_LISTENERS,
) -> str:
    """The listening part of docs/performance.md's DynamoDB section."""
    small, largest = measured[SMALL.label], measured[LARGEST.label]
    both = (small, largest)
    names = [row[0] for row in REPORTS]
    first = max(figures[names[0]][0] for figures in both)
    later = max(figures[name][0] for figures in both for name in names[1:4])
    read = max(figures[name][1] for figures in both for name in names[:4])
    nothing = max(figures[names[4]][1] for figures in both)
    verdict = "within" if later <= GOAL_REPORT_WCU else "ABOVE"
    shelf, forget = shelves[-1], listeners[-1]
    shelf_name, forget_name = shelf_row(shelf), forget_row(forget)
    return filled(f"""### What listeners keep

Measured the same way through the listening repository's DynamoDB backend
(listening/repository/dynamodb; the table, and why it is laid out so, in
listening/repository/tables.py). Each call twice: with *small* items (a 7-character device
name, bookmarks without a note) and with the *largest* the API takes (a device name of 100
4-byte characters, 400 bytes; notes of 1,000 4-byte characters). These are the listening
table's units: a progress write or a bookmark create through the API reads the book's head and
the chapter from the catalogue first.

{table(measured)}

A progress report is one eventually consistent GetItem of the listener's progress in the book
({read:g} read units), which predicts which case applies, then at most one conditional
UpdateItem: {first:g} write units for the listener's first report in the book (the item and its
entry in `by-book`), {later:g} for a later one that moves latest, furthest or both, even with
the longest device names: {verdict} the goal of {GOAL_REPORT_WCU} write unit. A late report
behind the furthest point writes nothing, once a consistent GetItem has confirmed it (the
first read may be stale and still show progress deleted a moment ago, which the report must
start again): {nothing:g} read units in all. The largest progress item stays under 1 KB (two
devices of 100 4-byte characters: tests/listening/test_dynamodb.py keeps its size and units).

The shelf has no index sorted by the latest report: that index would turn a report that moves
latest into 3 write units instead of 1, and reports come every few seconds to minutes while a
listener listens, where the shelf is read when the app opens. So the shelf reads all the
listener's progress items with a consistent Query and sorts them, for every page:
{small[shelf_name][1]:,g} read units in {requests(small[shelf_name][2])} for {shelf:,} books
started with short device names, {largest[shelf_name][1]:,g} in
{requests(largest[shelf_name][2])} with the longest, whatever the page size.

A bookmark create is one transaction with the listener's counter for the book, which keeps the
per-book limit exact: a transaction's writes are charged twice, and a bookmark is copied into
both local indexes (they project every attribute) and into `by-book`. The first bookmark in a
book also creates the counter and its `by-book` entry. A delete reads the bookmark first (its
book names the counter) and sends the same transaction in reverse. `book_forget` reads the
keys from `by-book` and deletes them in batches of 25: for {forget:,} listeners, each with
progress and one bookmark (three items with the counter), {small[forget_name][0]:,g} write
units with small items and {largest[forget_name][0]:,g} with the largest, in
{requests(small[forget_name][2])}.""")


def requests(count: int) -> str:
    return f"{count} request" + ("" if count == 1 else "s")


def filled(text: str) -> str:
    """Prose paragraphs refilled to the page's width once the figures are in; tables kept."""
    paragraphs = text.split("\n\n")
    return "\n\n".join(
        paragraph
        if paragraph.startswith(("|", "#"))
        else textwrap.fill(
            " ".join(paragraph.split()),
            width=96,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for paragraph in paragraphs
    )
