"""Lists bigger than one DynamoDB page (1 MB), through the HTTP API, on both data backends.

A Query returns at most 1 MB whatever its Limit; 150 books with 5,000-character Korean
descriptions (about 15 KB each) take more than two such pages. Every page must still hold
``limit`` items and say when more follow, at every limit the API accepts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from books.domain import Book, BookStatus, Chapter, ChapterStatus
from books.repository import get_repository

# moto answers a Query over these lists in about 0.3 s, so on moto the limits are those around
# the 1 MB boundaries (a page of 66 to 69 maximal books) and the largest; the SQL backend and
# DynamoDB Local take every limit.
MOTO_BOOK_LIMITS = [7, 50, 65, 66, 67, 68, 69, 70, 99, 100]
MOTO_CHAPTER_LIMITS = [100]


def limits(backend: str, moto: list[int], every: range) -> list[int]:
    return moto if backend == "dynamodb" else list(every)


T0 = datetime(2026, 1, 1, tzinfo=UTC)
KOREAN = "가나다라마바사아자차카타파하"
DESCRIPTION = (KOREAN * 400)[:5000]


def walk(api, url: str) -> tuple[list[str], list[int]]:
    """Every id the list yields, following ``next``, and the size of each page."""
    ids: list[str] = []
    sizes: list[int] = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        ids += [item["id"] for item in page["results"]]
        sizes.append(len(page["results"]))
        url = page["next"]
    return ids, sizes


@pytest.fixture
def maximal_books(backend, editor) -> list[str]:
    repository = get_repository()
    books = [
        repository.book_create(
            Book(
                title=f"책 {n}",
                author="작가",
                owner=editor.pk,
                description=DESCRIPTION,
                language="ko",
                created_at=T0 + timedelta(minutes=n),
                updated_at=T0 + timedelta(minutes=n),
                # Published: the listener's list reads its own index.
                status=BookStatus.PUBLISHED,
                published_at=T0,
            )
        )
        for n in range(150)
    ]
    return [book.id for book in reversed(books)]


def test_maximal_books_list_completely_at_every_limit(backend, maximal_books, as_listener):
    for limit in limits(backend, MOTO_BOOK_LIMITS, range(1, 101)):
        ids, sizes = walk(as_listener, f"/api/v1/books?limit={limit}")
        assert ids == maximal_books, f"limit={limit}"
        # Full pages until the last: a short page means the data ended.
        assert all(size == limit for size in sizes[:-1]), (limit, sizes)
        assert 1 <= sizes[-1] <= limit


def seed_chapters(backend: str, chapters: list[Chapter]) -> None:
    """Store chapters as the repository would. On DynamoDB they go in batches of the items its
    transactions write (chapter, number slot, then the count): a thousand transactions take
    minutes on moto, whose cost grows with the table."""
    repository = get_repository()
    if not backend.startswith("dynamodb"):
        for chapter in chapters:
            repository.chapter_create(chapter)
        return
    from books.repository.dynamodb.items import chapter_to_item, head_key, slot_to_item

    calls = repository.calls
    calls.batch_write(
        repository.chapters_table, [{"PutRequest": {"Item": chapter_to_item(c)}} for c in chapters]
    )
    calls.batch_write(
        repository.books_table, [{"PutRequest": {"Item": slot_to_item(c)}} for c in chapters]
    )
    calls.call(
        "update_item",
        TableName=repository.books_table,
        Key=head_key(chapters[0].book_id),
        UpdateExpression="SET chapter_count = :n",
        ExpressionAttributeValues={":n": {"N": str(len(chapters))}},
    )


@pytest.fixture
def many_chapters(backend, editor) -> tuple[str, list[str]]:
    repository = get_repository()
    book = repository.book_create(Book(title="긴 책", author="작가", owner=editor.pk))
    chapters = [
        Chapter(
            book_id=book.id,
            number=number,
            title=(KOREAN * 22)[:300],
            status=ChapterStatus.FAILED,
            failure_reason=(KOREAN * 40)[:500],
            updated_at=T0 + timedelta(seconds=number),
        )
        for number in range(1000, 0, -1)
    ]
    seed_chapters(backend, chapters)
    assert repository.book_get(book.id).chapter_count == 1000
    return book.id, [c.id for c in sorted(chapters, key=lambda c: c.number)]


def test_a_thousand_chapters_list_completely(backend, many_chapters, as_editor):
    book_id, ordered = many_chapters
    # Failed chapters: their owner sees them all.
    for limit in limits(backend, MOTO_CHAPTER_LIMITS, range(7, 101, 31)):
        ids, sizes = walk(as_editor, f"/api/v1/books/{book_id}/chapters?limit={limit}")
        assert ids == ordered, f"limit={limit}"
        assert all(size == limit for size in sizes[:-1])
    # The status list, the console's: most recently updated first (the highest numbers).
    repository = get_repository()
    for limit in limits(backend, MOTO_CHAPTER_LIMITS, range(7, 101, 31)):
        seen: list[str] = []
        cursor = None
        while True:
            page = repository.chapters_by_status(ChapterStatus.FAILED, limit=limit, cursor=cursor)
            assert len(page.items) == limit or page.next_cursor is None
            seen += [c.id for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == list(reversed(ordered)), f"limit={limit}"
