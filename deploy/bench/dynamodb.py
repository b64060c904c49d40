"""Write and read units of the catalogue's and the listeners' DynamoDB calls, on DynamoDB Local.

    python -m deploy.bench.dynamodb                  # starts DynamoDB Local (deploy.local.dynamodb)
    python -m deploy.bench.dynamodb --endpoint URL   # or measures one already running

Every request the repository sends asks for ``ReturnConsumedCapacity=INDEXES``; the figures are
the sums of what DynamoDB reports, tables and indexes together, for the repository calls each
API call makes (the sequence in docs/configuration.md). The book has a 5,000-character Korean
description (15 KB in UTF-8), the API's maximum, and an empty one for comparison. What
listeners keep (progress, bookmarks) is measured by deploy/bench/listening_costs.py, search on
10,000 books by deploy/bench/search_costs.py.
Updates the section of docs/performance.md between its markers; ``make bench`` (deploy/bench/)
writes the same section.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from books.domain import Book, BookStatus, Chapter, utcnow
from books.repository.dynamodb import DynamoDBRepository
from books.repository.tables import create_tables
from deploy.bench import listening_costs, search_costs
from deploy.bench.capacity import Capacity, Figures, bench_client
from deploy.local.dynamodb import DynamoDBLocal

ROOT = Path(__file__).resolve().parents[2]
PERFORMANCE = ROOT / "docs" / "performance.md"
BEGIN = "<!-- dynamodb-costs -->"
END = "<!-- /dynamodb-costs -->"
DESCRIPTION = ("가나다라마바사아자차카타파하" * 400)[:5000]
GOAL_CREATE_WCU = 12


def measure(endpoint: str) -> dict[str, Figures]:
    """By description: each API call's (write units, read units, requests)."""
    client = bench_client(endpoint)
    suffix = uuid.uuid4().hex[:8]
    books, chapters = f"bench-books-{suffix}", f"bench-chapters-{suffix}"
    create_tables(client, books=books, chapters=chapters)
    repository = DynamoDBRepository(client=client, books_table=books, chapters_table=chapters)
    capacity = Capacity(client)
    try:
        return {
            label: _measure_calls(repository, capacity, description)
            for label, description in (("5,000 characters", DESCRIPTION), ("empty", ""))
        }
    finally:
        for table in (books, chapters):
            client.delete_table(TableName=table)


def _measure_calls(repository: Any, capacity: Capacity, description: str) -> Figures:
    """(write units, read units, requests) of each API call's repository calls."""
    figures: Figures = {}
    measured = capacity.recorder(figures)
    book = measured(
        "book create",
        lambda: repository.book_create(
            Book(title="토지", author="박경리", owner=1, description=description)
        ),
    )
    for number in (1, 2):
        repository.chapter_create(Chapter(book_id=book.id, number=number, title="장"))

    def create() -> Chapter:
        repository.book_get(book.id)
        number = repository.chapter_last_number(book.id) + 1
        return repository.chapter_create(Chapter(book_id=book.id, number=number, title="제3장"))

    chapter = measured("chapter create", create)

    def edit(**changes: Any) -> Chapter:
        repository.book_get(book.id)
        current = repository.chapter_get(book.id, chapter.id)
        return repository.chapter_update(current.replace(**changes), previous=current)

    measured("chapter renumber", lambda: edit(number=9))
    measured("chapter title edit", lambda: edit(title="새 제목"))

    def delete() -> None:
        repository.book_get(book.id)
        repository.chapter_delete(repository.chapter_get(book.id, chapter.id))

    measured("chapter delete", delete)
    measured("book get", lambda: repository.book_get(book.id))
    _measure_status_changes(repository, measured, book.id)
    measured("book delete (2 chapters)", lambda: repository.book_delete(book.id))
    return figures


def _measure_status_changes(
    repository: Any, measured: Callable[[str, Callable[[], Any]], Any], book_id: str
) -> None:
    """Publish and unpublish as the services make them (books/services/books.py): the book,
    for publishing a page of its ready chapters, then the status write."""

    def change(status: BookStatus) -> Book:
        book = repository.book_get(book_id)
        if status == BookStatus.PUBLISHED:
            repository.chapter_list(book_id, limit=100, ready_only=True)
        now = utcnow()
        published_at = now if status == BookStatus.PUBLISHED else None
        changed = book.replace(status=status, published_at=published_at, updated_at=now)
        return repository.book_set_status(changed, expected_version=book.version)

    measured("book publish", lambda: change(BookStatus.PUBLISHED))
    measured("book unpublish", lambda: change(BookStatus.DRAFT))


def _table(measured: dict[str, Figures]) -> str:
    labels = list(measured)
    first = measured[labels[0]]
    header = "| API call | " + " | ".join(f"WCU, description {label}" for label in labels)
    header += " | RCU | requests |"
    rows = [header, "|---" * (len(labels) + 3) + "|"]
    for name in first:
        writes = " | ".join(f"{figures[name][0]:g}" for figures in measured.values())
        _, read, requests = first[name]
        rows.append(f"| {name} | {writes} | {read:g} | {requests} |")
    return "\n".join(rows)


def section(endpoint: str) -> str:
    measured = measure(endpoint)
    listening = listening_costs.section(listening_costs.measure(endpoint))
    search = listening_costs.filled(search_costs.section(search_costs.measure(endpoint)))
    create = max(figures["chapter create"][0] for figures in measured.values())
    verdict = "within" if create <= GOAL_CREATE_WCU else "ABOVE"
    return f"""{BEGIN}
## DynamoDB write and read units

Measured on AWS's DynamoDB Local with `ReturnConsumedCapacity=INDEXES` (tables and indexes
together), for the repository calls each API call makes (`python -m deploy.bench.dynamodb`):
the catalogue's, then what listeners keep.

### The catalogue

The RCU and request columns are for the 5,000-character description.

{_table(measured)}

A chapter create costs {create:g} write units whatever the book's description: {verdict} the
goal of {GOAL_CREATE_WCU}. Its transaction writes three items of under 1 KB: the chapter, its
number's slot and the book's head (chapter count), each charged twice as a transactional write,
plus the chapter's copies in its three indexes. The book's 15 KB item is written only when the
book itself is created, edited, published, unpublished or deleted, each time with its copies in
`books-by-created` and `books-by-visibility` (both project every attribute), twice as a
transaction when created or when its status changes (the head takes the status in the same
transaction); a status change also moves the book from one partition of `books-by-visibility`
to another, a delete and a put of its copy there. Before the head and the slots, the count
lived on the book item, and a chapter create rewrote the whole book and its copy in
`books-by-created`: about 82 write units with this description. A book create also writes
its search term items beside it (small items, 1 write unit each; five for this title and
author), and a delete deletes them in a transaction (docs/search.md).

{listening}

{search}
{END}"""


def update_performance_doc(text: str) -> None:
    current = PERFORMANCE.read_text() if PERFORMANCE.exists() else "# Performance\n"
    if BEGIN in current and END in current:
        before, rest = current.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        updated = before + text + after
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    PERFORMANCE.write_text(updated)


@contextlib.contextmanager
def dynamodb_local() -> Iterator[str]:
    """The project's DynamoDB Local (deploy/local/dynamodb.py), for as long as it is needed."""
    with DynamoDBLocal() as local:
        yield local.endpoint


def measured_section(endpoint: str | None = None) -> str:
    if endpoint:
        return section(endpoint)
    with dynamodb_local() as started:
        return section(started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="a DynamoDB Local already running")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voj.settings")
    text = measured_section(args.endpoint)
    print(text)
    if not args.no_write:
        update_performance_doc(text)


if __name__ == "__main__":
    main()
