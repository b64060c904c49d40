"""What listeners keep, one contract on every backend: SQL (Django ORM), DynamoDB on moto and
DynamoDB on AWS's DynamoDB Local."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from books.domain import new_id
from books.errors import InvalidCursor, VersionConflict
from listening.domain import Bookmark, Position
from listening.errors import BookmarkLimitReached, BookmarkNotFound, ProgressNotFound
from listening.repository.base import ListeningRepository
from tests.books.test_repository_contract import run_threads
from tests.conftest import DYNAMODB_TABLES
from tests.postgres import default_database


# Threads use their own connections, so SQL data must really be committed. The SQL backend runs
# on SQLite (the embedded default, where IMMEDIATE transactions queue writers) and on
# PostgreSQL (where only its row locks keep concurrent reports and creates apart).
@pytest.fixture(
    params=[
        pytest.param("sql", marks=pytest.mark.django_db(transaction=True)),
        pytest.param(
            "sql-postgres", marks=[pytest.mark.django_db(transaction=True), pytest.mark.postgres]
        ),
        pytest.param("dynamodb", marks=pytest.mark.django_db),
        pytest.param("dynamodb-local", marks=[pytest.mark.django_db, pytest.mark.dynamodb_local]),
    ]
)
def repo(request) -> Iterator[ListeningRepository]:
    from listening.repository.sql import SqlListeningRepository

    if request.param == "sql":
        yield SqlListeningRepository()
    elif request.param == "sql-postgres":
        from listening.models import BookmarkLockRecord, BookmarkRecord, ProgressRecord

        with default_database(request.getfixturevalue("postgres_test_database")):
            yield SqlListeningRepository()
            # pytest-django empties the suite's own database, not this one.
            for model in (ProgressRecord, BookmarkRecord, BookmarkLockRecord):
                model.objects.all().delete()
    else:
        request.getfixturevalue(DYNAMODB_TABLES[request.param])
        from listening.repository import get_listening_repository

        yield get_listening_repository()


# Microseconds included: every backend keeps a report's time to the microsecond.
T0 = datetime(2026, 1, 1, 8, 30, 15, 123456, tzinfo=UTC)
USER = 7
OTHER_USER = 8


def chapter_id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def at(number: int, seconds: float, minutes: float = 0, device: str = "phone") -> Position:
    """A report in chapter ``number`` at ``seconds``, made ``minutes`` after T0."""
    return Position(
        chapter_id=chapter_id(number),
        chapter_number=number,
        position_seconds=seconds,
        updated_at=T0 + timedelta(minutes=minutes),
        device=device,
    )


def record(repo, book_id: str, report: Position, *, user_id: int = USER, finishes: bool = False):
    return repo.progress_record(user_id=user_id, book_id=book_id, report=report, finishes=finishes)


def bookmark(book_id: str, number: int = 1, seconds: float = 10.0, **fields) -> Bookmark:
    values = {
        "user_id": USER,
        "book_id": book_id,
        "chapter_id": chapter_id(number),
        "chapter_number": number,
        "position_seconds": seconds,
        **fields,
    }
    return Bookmark(**values)


# --- progress: the four cases ------------------------------------------------------------------


def test_first_report_creates_progress(repo):
    book = new_id()
    report = at(2, 61.5, device="Pixel 8 (긴 이름)")
    write = record(repo, book, report)
    assert write.applied
    assert (write.progress.user_id, write.progress.book_id) == (USER, book)
    assert write.progress.latest == write.progress.furthest == report
    assert not write.progress.finished
    assert repo.progress_get(user_id=USER, book_id=book) == write.progress


def test_newer_and_further_replaces_both(repo):
    book = new_id()
    record(repo, book, at(1, 100))
    report = at(2, 5, minutes=1, device="car")
    write = record(repo, book, report)
    assert write.applied
    assert write.progress.latest == write.progress.furthest == report
    assert repo.progress_get(user_id=USER, book_id=book) == write.progress


def test_newer_report_behind_replaces_latest_only(repo):
    book = new_id()
    first = at(3, 100)
    record(repo, book, first)
    # The listener went back to re-hear a chapter on another device.
    report = at(1, 20, minutes=5, device="laptop")
    write = record(repo, book, report)
    assert write.applied
    assert (write.progress.latest, write.progress.furthest) == (report, first)
    assert repo.progress_get(user_id=USER, book_id=book) == write.progress


def test_late_older_report_leaves_latest_but_moves_furthest(repo):
    book = new_id()
    latest = at(2, 10, minutes=10)
    record(repo, book, latest)
    # An offline device syncs a report made earlier, further into the book.
    late = at(4, 30, minutes=1, device="offline phone")
    write = record(repo, book, late)
    assert not write.applied
    assert (write.progress.latest, write.progress.furthest) == (latest, late)
    assert repo.progress_get(user_id=USER, book_id=book) == write.progress


def test_late_report_behind_changes_nothing(repo):
    book = new_id()
    stored = record(repo, book, at(5, 10, minutes=10)).progress
    write = record(repo, book, at(1, 1, minutes=1))
    assert not write.applied
    assert write.progress == stored
    assert repo.progress_get(user_id=USER, book_id=book) == stored


def test_furthest_is_the_greatest_order_whatever_the_times(repo):
    book = new_id()
    reports = [
        at(n, s, minutes=m) for m, (n, s) in enumerate([(1, 5), (3, 2.5), (3, 2.25), (2, 900)])
    ]
    rng = random.Random(19)
    rng.shuffle(reports)
    for report in reports:
        write = record(repo, book, report)
    assert write.progress.furthest == at(3, 2.5, minutes=1)
    assert write.progress.latest == max(reports, key=lambda r: r.updated_at)


def test_equal_updated_at_keeps_the_stored_latest(repo):
    """The tie rule: a report becomes latest only if strictly newer, furthest only if strictly
    further, so a report sent twice, or two devices at the same microsecond, change nothing."""
    book = new_id()
    first = at(2, 50, minutes=3, device="phone")
    record(repo, book, first)
    same_time = at(2, 80, minutes=3, device="car")
    write = record(repo, book, same_time)
    assert not write.applied
    assert (write.progress.latest, write.progress.furthest) == (first, same_time)
    again = record(repo, book, same_time)
    assert not again.applied
    assert again.progress == write.progress
    same_place = at(2, 80, minutes=4, device="laptop")
    write = record(repo, book, same_place)
    assert write.applied
    assert (write.progress.latest, write.progress.furthest) == (same_place, same_time)


def test_finishing_report_finishes_and_nothing_unfinishes(repo):
    book = new_id()
    record(repo, book, at(9, 100))
    end = at(10, 3599.5, minutes=1)
    write = record(repo, book, end, finishes=True)
    assert write.progress.finished
    assert write.progress.furthest == end
    # Listening again from the start, newer: latest moves back, finished stays.
    again = record(repo, book, at(1, 0, minutes=2))
    assert again.applied
    assert again.progress.finished
    assert again.progress.furthest == end
    assert repo.progress_get(user_id=USER, book_id=book).finished


def test_first_report_may_finish(repo):
    write = record(repo, new_id(), at(1, 59.5), finishes=True)
    assert write.progress.finished


def test_concurrent_reports_never_lose_the_newest(repo):
    book = new_id()
    count = 8
    rng = random.Random(7)
    minutes = rng.sample(range(100), count)
    orders = rng.sample([(n, float(s)) for n in range(1, 5) for s in range(0, 400, 7)], count)
    reports = [
        at(n, s, minutes=m, device=f"device {i}")
        for i, (m, (n, s)) in enumerate(zip(minutes, orders, strict=True))
    ]
    results = run_threads(count, lambda i: record(repo, book, reports[i]))
    assert not [r for r in results if isinstance(r, Exception)]
    newest = max(reports, key=lambda r: r.updated_at)
    furthest = max(reports, key=lambda r: r.order)
    stored = repo.progress_get(user_id=USER, book_id=book)
    assert (stored.latest, stored.furthest) == (newest, furthest)
    assert results[reports.index(newest)].applied


def test_progress_get_unknown_and_another_listeners(repo):
    book = new_id()
    record(repo, book, at(1, 1))
    with pytest.raises(ProgressNotFound):
        repo.progress_get(user_id=USER, book_id=new_id())
    with pytest.raises(ProgressNotFound):
        repo.progress_get(user_id=OTHER_USER, book_id=book)


def test_progress_delete_is_idempotent_and_touches_only_that_book(repo):
    book, kept = new_id(), new_id()
    record(repo, book, at(1, 1))
    record(repo, kept, at(1, 1))
    record(repo, book, at(1, 1), user_id=OTHER_USER)
    repo.progress_delete(user_id=USER, book_id=book)
    repo.progress_delete(user_id=USER, book_id=book)
    with pytest.raises(ProgressNotFound):
        repo.progress_get(user_id=USER, book_id=book)
    repo.progress_get(user_id=USER, book_id=kept)
    repo.progress_get(user_id=OTHER_USER, book_id=book)
    # Reporting again starts afresh.
    assert record(repo, book, at(1, 5, minutes=-60)).applied


# --- the shelf ---------------------------------------------------------------------------------


def walk(list_page, limit: int) -> tuple[list, int]:
    items, cursor, pages = [], None, 0
    while True:
        page = list_page(limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        items += page.items
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return items, pages


def test_progress_list_newest_latest_first_across_pages(repo):
    books = [new_id() for _ in range(7)]
    # Latest times out of creation order; one book's further report arrives late and older.
    minutes = [5, 1, 30, 12, 7, 20, 3]
    for book, m in zip(books, minutes, strict=True):
        record(repo, book, at(1, 10, minutes=m))
    record(repo, books[1], at(9, 10, minutes=0))  # older: furthest moves, latest stays
    record(repo, books[6], at(1, 20, minutes=40))  # newer: to the front
    record(repo, new_id(), at(1, 1, minutes=50), user_id=OTHER_USER)
    items, pages = walk(lambda **page: repo.progress_list(user_id=USER, **page), limit=3)
    assert pages == 3
    assert [p.book_id for p in items] == [
        books[6],
        books[2],
        books[5],
        books[3],
        books[4],
        books[0],
        books[1],
    ]
    assert items[-1].furthest.chapter_number == 9
    assert all(p.user_id == USER for p in items)


def test_progress_list_empty_and_exact_page(repo):
    assert repo.progress_list(user_id=USER, limit=5).items == []
    for m in range(2):
        record(repo, new_id(), at(1, 1, minutes=m))
    page = repo.progress_list(user_id=USER, limit=2)
    assert (len(page.items), page.next_cursor) == (2, None)


def test_progress_list_refuses_tampered_and_foreign_cursors(repo):
    for m in range(3):
        record(repo, new_id(), at(1, 1, minutes=m))
    cursor = repo.progress_list(user_id=USER, limit=1).next_cursor
    assert cursor
    for bad in (cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"), "garbage", ""):
        if bad:
            with pytest.raises(InvalidCursor):
                repo.progress_list(user_id=USER, limit=1, cursor=bad)
    # Another listener's cursor is no cursor of theirs.
    with pytest.raises(InvalidCursor):
        repo.progress_list(user_id=OTHER_USER, limit=1, cursor=cursor)
    # Nor is a bookmark list's.
    with pytest.raises(InvalidCursor):
        repo.bookmark_list(user_id=USER, book_id=None, limit=1, cursor=cursor)


# --- bookmarks ---------------------------------------------------------------------------------


def test_bookmark_round_trip(repo):
    created = repo.bookmark_create(
        bookmark(new_id(), 3, 12.345678, note="다시 듣기 — the storm"), per_book_limit=10
    )
    assert repo.bookmark_get(user_id=USER, bookmark_id=created.id) == created


def test_bookmark_of_another_listener_is_not_found(repo):
    created = repo.bookmark_create(bookmark(new_id()), per_book_limit=10)
    with pytest.raises(BookmarkNotFound):
        repo.bookmark_get(user_id=OTHER_USER, bookmark_id=created.id)
    with pytest.raises(BookmarkNotFound):
        repo.bookmark_get(user_id=USER, bookmark_id=new_id())
    with pytest.raises(BookmarkNotFound):
        repo.bookmark_update(created.replace(user_id=OTHER_USER, note="x"), expected_version=1)
    with pytest.raises(BookmarkNotFound):
        repo.bookmark_delete(user_id=OTHER_USER, bookmark_id=created.id)
    assert repo.bookmark_get(user_id=USER, bookmark_id=created.id) == created


def test_bookmark_update_bumps_version_and_refuses_stale(repo):
    created = repo.bookmark_create(bookmark(new_id(), 1, 10.0), per_book_limit=10)
    later = created.updated_at + timedelta(minutes=5)
    changed = created.replace(
        chapter_id=chapter_id(2),
        chapter_number=2,
        position_seconds=7.5,
        note="moved",
        updated_at=later,
    )
    updated = repo.bookmark_update(changed, expected_version=1)
    assert updated == changed.replace(version=2)
    assert repo.bookmark_get(user_id=USER, bookmark_id=created.id) == updated
    with pytest.raises(VersionConflict):
        repo.bookmark_update(created.replace(note="stale"), expected_version=1)
    assert repo.bookmark_get(user_id=USER, bookmark_id=created.id) == updated


def test_bookmark_delete(repo):
    created = repo.bookmark_create(bookmark(new_id()), per_book_limit=10)
    repo.bookmark_delete(user_id=USER, bookmark_id=created.id)
    with pytest.raises(BookmarkNotFound):
        repo.bookmark_get(user_id=USER, bookmark_id=created.id)
    with pytest.raises(BookmarkNotFound):
        repo.bookmark_delete(user_id=USER, bookmark_id=created.id)
    with pytest.raises(BookmarkNotFound):
        repo.bookmark_update(created.replace(note="gone"), expected_version=1)


def test_bookmark_list_of_a_book_in_book_order(repo):
    book = new_id()
    places = [(2, 5.0), (1, 300.0), (2, 0.5), (10, 1.0), (1, 2.0)]
    made = [
        repo.bookmark_create(
            bookmark(book, n, s, created_at=T0 + timedelta(minutes=i)), per_book_limit=10
        )
        for i, (n, s) in enumerate(places)
    ]
    repo.bookmark_create(bookmark(new_id()), per_book_limit=10)
    repo.bookmark_create(bookmark(book, user_id=OTHER_USER), per_book_limit=10)
    items, pages = walk(
        lambda **page: repo.bookmark_list(user_id=USER, book_id=book, **page), limit=2
    )
    assert pages == 3
    assert items == sorted(made, key=lambda b: (b.chapter_number, b.position_seconds))


def test_bookmark_list_same_place_is_paged_by_id(repo):
    book = new_id()
    made = [repo.bookmark_create(bookmark(book, 1, 5.0), per_book_limit=10) for _ in range(5)]
    items, _ = walk(lambda **page: repo.bookmark_list(user_id=USER, book_id=book, **page), 2)
    assert sorted(b.id for b in items) == sorted(b.id for b in made)
    assert len(items) == 5


def test_bookmark_list_without_book_newest_first(repo):
    made = [
        repo.bookmark_create(
            bookmark(new_id() if i % 2 else "b" * 36, created_at=T0 + timedelta(minutes=m)),
            per_book_limit=10,
        )
        for i, m in enumerate([3, 9, 1, 7, 5])
    ]
    repo.bookmark_create(bookmark(new_id(), user_id=OTHER_USER), per_book_limit=10)
    items, pages = walk(
        lambda **page: repo.bookmark_list(user_id=USER, book_id=None, **page), limit=2
    )
    assert pages == 3
    assert items == sorted(made, key=lambda b: b.created_at, reverse=True)


def test_bookmark_list_refuses_tampered_cursor(repo):
    book = new_id()
    for s in range(3):
        repo.bookmark_create(bookmark(book, 1, float(s)), per_book_limit=10)
    cursor = repo.bookmark_list(user_id=USER, book_id=book, limit=1).next_cursor
    assert cursor
    with pytest.raises(InvalidCursor):
        repo.bookmark_list(user_id=USER, book_id=book, limit=1, cursor=cursor[:-3] + "xyz")
    with pytest.raises(InvalidCursor):
        repo.bookmark_list(user_id=USER, book_id=new_id(), limit=1, cursor=cursor)
    with pytest.raises(InvalidCursor):
        repo.bookmark_list(user_id=USER, book_id=None, limit=1, cursor=cursor)


def test_bookmark_limit_is_exact_and_per_book(repo):
    book = new_id()
    made = [repo.bookmark_create(bookmark(book, 1, float(s)), per_book_limit=3) for s in range(3)]
    with pytest.raises(BookmarkLimitReached):
        repo.bookmark_create(bookmark(book), per_book_limit=3)
    repo.bookmark_create(bookmark(new_id()), per_book_limit=3)
    repo.bookmark_create(bookmark(book, user_id=OTHER_USER), per_book_limit=3)
    # Deleting one frees its place.
    repo.bookmark_delete(user_id=USER, bookmark_id=made[0].id)
    repo.bookmark_create(bookmark(book), per_book_limit=3)
    with pytest.raises(BookmarkLimitReached):
        repo.bookmark_create(bookmark(book), per_book_limit=3)
    assert len(repo.bookmark_list(user_id=USER, book_id=book, limit=10).items) == 3


def test_bookmark_limit_is_exact_under_concurrent_creates(repo):
    book = new_id()
    results = run_threads(
        8, lambda i: repo.bookmark_create(bookmark(book, 1, float(i)), per_book_limit=5)
    )
    created = [r for r in results if isinstance(r, Bookmark)]
    refused = [r for r in results if isinstance(r, BookmarkLimitReached)]
    assert (len(created), len(refused)) == (5, 3), results
    stored = repo.bookmark_list(user_id=USER, book_id=book, limit=10).items
    assert sorted(b.id for b in stored) == sorted(b.id for b in created)


# --- deletions ---------------------------------------------------------------------------------


def keep_some(repo, book: str, user_id: int) -> None:
    record(repo, book, at(1, 1), user_id=user_id)
    for s in range(2):
        repo.bookmark_create(bookmark(book, 1, float(s), user_id=user_id), per_book_limit=2)


def test_book_forget_takes_every_listeners_and_only_that_book(repo):
    gone, kept = new_id(), new_id()
    for user_id in (USER, OTHER_USER):
        keep_some(repo, gone, user_id)
        keep_some(repo, kept, user_id)
    repo.book_forget(book_id=gone)
    repo.book_forget(book_id=gone)
    for user_id in (USER, OTHER_USER):
        with pytest.raises(ProgressNotFound):
            repo.progress_get(user_id=user_id, book_id=gone)
        assert repo.bookmark_list(user_id=user_id, book_id=gone, limit=5).items == []
        repo.progress_get(user_id=user_id, book_id=kept)
        assert len(repo.bookmark_list(user_id=user_id, book_id=kept, limit=5).items) == 2
        assert len(repo.bookmark_list(user_id=user_id, book_id=None, limit=5).items) == 2
        assert [p.book_id for p in repo.progress_list(user_id=user_id, limit=5).items] == [kept]
    # Nothing of the book's count is left: a book with the same id starts from none.
    keep_some(repo, gone, USER)


def test_book_forget_of_a_book_nobody_kept(repo):
    repo.book_forget(book_id=new_id())


def test_user_forget_takes_only_that_listeners(repo):
    books = [new_id(), new_id()]
    for book in books:
        keep_some(repo, book, USER)
        keep_some(repo, book, OTHER_USER)
    repo.user_forget(user_id=USER)
    repo.user_forget(user_id=USER)
    assert repo.progress_list(user_id=USER, limit=5).items == []
    assert repo.bookmark_list(user_id=USER, book_id=None, limit=5).items == []
    assert len(repo.progress_list(user_id=OTHER_USER, limit=5).items) == 2
    assert len(repo.bookmark_list(user_id=OTHER_USER, book_id=None, limit=5).items) == 4
    for book in books:
        keep_some(repo, book, USER)
