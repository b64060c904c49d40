"""What a search costs on DynamoDB: read units, requests and time, on DynamoDB Local, over a
catalogue of 10,000 books.

    python -m deploy.bench.search_costs [--endpoint URL] [--books N]

The catalogue is written straight into the books table, items as the repository makes them
(book, head, term items: books/repository/dynamodb/search.py), by a few threads: through the
API it would take far longer and measure nothing more. Titles and authors are made up from a
fixed seed, half Korean, half Latin, with a few words planted at known rates: "prince" in 5% of
the titles, "little" in 5% (both together in 1%), "왕자" in 3% of the Korean ones, "zanzibar"
once. One book in ten is a draft. Then each query is run as a listener (published books only)
through the repository with ``ReturnConsumedCapacity=INDEXES``: the first page of 20 and, where
there is one, the next. Times are DynamoDB Local's on this machine, a Java process over SQLite
on the same host: they compare the queries with one another, not with DynamoDB.
``python -m deploy.bench.dynamodb`` and ``make bench`` put the section in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from books.domain import PUBLISHED_BOOKS, Book, BookStatus
from books.repository.dynamodb import DynamoDBRepository
from books.repository.dynamodb.calls import Calls
from books.repository.dynamodb.items import book_to_item, head_to_item
from books.repository.dynamodb.search import term_items
from books.repository.tables import create_tables
from deploy.bench.capacity import Capacity, bench_client
from deploy.local.dynamodb import DynamoDBLocal

BOOKS = 10_000
PAGE_SIZE = 20
RUNS = 5  # each query's time is the median of this many runs
T0 = datetime(2024, 1, 1, tzinfo=UTC)
SEED = 20

# (row label, query): a common Latin prefix, a rare word, a Hangul pair, two words, nothing.
QUERIES = (
    ("common Latin prefix", "prin"),
    ("rare word", "zanzibar"),
    ("Hangul pair", "왕자"),
    ("two words", "little prince"),
    ("no match", "qwxz"),
)

_LATIN = ("ka", "lo", "mi", "ren", "tor", "vel", "sun", "dar", "pe", "qui", "bo", "ste", "an", "ul")
_HANGUL = "가나다라마바사아자차카타파하어린별달숲강바람노을새벽하늘"


class Measured(NamedTuple):
    """One query's first page (and second, where there is one)."""

    found: int  # books on the first page
    read_units: float
    requests: int
    milliseconds: float  # the call's median time
    next_read_units: float | None
    next_requests: int | None


def _word(rng: random.Random, syllables: str | tuple[str, ...], parts: tuple[int, int]) -> str:
    return "".join(rng.choice(syllables) for _ in range(rng.randint(*parts)))


def _book(rng: random.Random, n: int, books: int) -> Book:
    korean = n % 2 == 0
    if korean:
        words = [_word(rng, _HANGUL, (2, 3)) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.06:  # of the Korean half: 3% of the catalogue
            words.insert(rng.randint(0, len(words)), "왕자")
        author = f"{_word(rng, _HANGUL, (1, 1))}{_word(rng, _HANGUL, (2, 2))}"
    else:
        words = [_word(rng, _LATIN, (2, 3)).capitalize() for _ in range(rng.randint(1, 3))]
        author = f"{_word(rng, _LATIN, (2, 2)).title()} {_word(rng, _LATIN, (2, 3)).title()}"
    if n % 100 == 1:
        words = ["The", "Little", "Prince", *words]
    elif n % 20 == 3:
        words.insert(0, "Prince")
    elif n % 20 == 5:
        words.append("Little")
    if n == books // 2:
        words.append("Zanzibar")
    at = T0 + timedelta(minutes=n)
    draft = n % 10 == 9
    return Book(
        title=" ".join(words),
        author=author,
        owner=1 + n % 50,
        created_at=at,
        updated_at=at,
        status=BookStatus.DRAFT if draft else BookStatus.PUBLISHED,
        published_at=None if draft else at,
    )


def _items(book: Book) -> list[dict[str, Any]]:
    return [book_to_item(book), head_to_item(book), *term_items(book)]


def load(client: Any, table: str, books: int) -> int:
    """Write the catalogue; returns the number of items written."""
    rng = random.Random(SEED)  # noqa: S311 - made-up titles, the same every run
    catalogue = [_book(rng, n, books) for n in range(books)]
    calls = Calls(client)
    chunks = [catalogue[i : i + 100] for i in range(0, len(catalogue), 100)]

    def write(chunk: list[Book]) -> int:
        items = [item for book in chunk for item in _items(book)]
        calls.batch_write(table, [{"PutRequest": {"Item": item}} for item in items])
        return len(items)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sum(pool.map(write, chunks))


def measure(endpoint: str, *, books: int = BOOKS, runs: int = RUNS) -> dict[str, Measured]:
    client = bench_client(endpoint)
    suffix = uuid.uuid4().hex[:8]
    books_table, chapters_table = f"bench-search-{suffix}", f"bench-search-ch-{suffix}"
    create_tables(client, books=books_table, chapters=chapters_table)
    try:
        load(client, books_table, books)
        repository = DynamoDBRepository(
            client=client, books_table=books_table, chapters_table=chapters_table
        )
        capacity = Capacity(client)
        return {label: _measure(repository, capacity, query, runs) for label, query in QUERIES}
    finally:
        for table in (books_table, chapters_table):
            client.delete_table(TableName=table)


def _measure(repository: Any, capacity: Capacity, query: str, runs: int) -> Measured:
    def search(cursor: str | None = None) -> Any:
        return repository.book_search(
            query=query, visible=PUBLISHED_BOOKS, limit=PAGE_SIZE, cursor=cursor
        )

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        search()
        times.append((time.perf_counter() - started) * 1000)
    with capacity.during() as seen:
        page = search()
    read, requests = seen.read, len(seen.requests)
    next_read = next_requests = None
    if page.next_cursor:
        with capacity.during() as seen:
            search(page.next_cursor)
        next_read, next_requests = seen.read, len(seen.requests)
    return Measured(
        len(page.items), read, requests, statistics.median(times), next_read, next_requests
    )


def table(measured: dict[str, Measured]) -> str:
    rows = [
        "| query | books on page 1 | RCU | requests | ms (median) | RCU, page 2 "
        "| requests, page 2 |",
        "|---|---|---|---|---|---|---|",
    ]
    for (label, query), figures in zip(QUERIES, measured.values(), strict=True):
        later = (
            f"{figures.next_read_units:g} | {figures.next_requests}"
            if figures.next_requests is not None
            else "- | -"
        )
        rows.append(
            f"| {label}: `{query}` | {figures.found} | {figures.read_units:g} | "
            f"{figures.requests} | {figures.milliseconds:.0f} | {later} |"
        )
    return "\n".join(rows)


def section(measured: dict[str, Measured], *, books: int = BOOKS) -> str:
    """The search part of docs/performance.md's DynamoDB section."""
    most = max(figures.requests for figures in measured.values())
    return f"""### Search

`GET /api/v1/books?q=` as a listener, on {books:,} books written into DynamoDB Local
(`python -m deploy.bench.search_costs`; the catalogue, made up from a fixed seed, is described
there). A page of {PAGE_SIZE}: one Query of a term's partition (two more small COUNT Queries
for two words, to pick the smaller partition), then one consistent BatchGetItem of the
candidates' books and heads, most of the read units: a consistent read of a
book item is charged by its size (here a few hundred bytes; a 15 KB description makes it 4
units). At most {most} requests a page here; no request reads more than a page of candidates,
whatever the catalogue's size. docs/search.md explains the design.

{table(measured)}

For two words the partition's items are read through a filter on the other word, up to 200
small items a round, which is the rest of that row's read units; a page holding only a few
matches is still one round. Times are the median of {RUNS} runs on DynamoDB Local (a Java
process on the same host): they compare the queries with one another, not with DynamoDB's
latency."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="a DynamoDB Local already running")
    parser.add_argument("--books", type=int, default=BOOKS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voj.settings")
    if args.endpoint:
        print(section(measure(args.endpoint, books=args.books), books=args.books))
        return
    with DynamoDBLocal() as local:
        print(section(measure(local.endpoint, books=args.books), books=args.books))


if __name__ == "__main__":
    main()
