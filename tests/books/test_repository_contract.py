"""One contract, every case on every backend: SQL (Django ORM), DynamoDB on moto and DynamoDB on
AWS's DynamoDB Local."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from books.domain import EVERY_BOOK, Book, BookAccess, BookStatus, Chapter, ChapterStatus
from books.errors import (
    BookNotFound,
    ChapterNotFound,
    ChapterNumberTaken,
    InvalidCursor,
    VersionConflict,
)
from tests.conftest import DYNAMODB_TABLES


# Threads use their own connections, so SQL data must really be committed.
@pytest.fixture(
    params=[
        pytest.param("sql", marks=pytest.mark.django_db(transaction=True)),
        pytest.param("dynamodb", marks=pytest.mark.django_db),
        pytest.param("dynamodb-local", marks=[pytest.mark.django_db, pytest.mark.dynamodb_local]),
    ]
)
def repo(request):
    if request.param == "sql":
        from books.repository.sql import SqlRepository

        return SqlRepository()
    request.getfixturevalue(DYNAMODB_TABLES[request.param])
    from books.repository import get_repository

    return get_repository()


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_book(repo, n: int = 0, **fields) -> Book:
    at = T0 + timedelta(minutes=n)
    values = {
        "title": f"Book {n}",
        "author": "Author",
        "owner": 1,
        "created_at": at,
        "updated_at": at,
        **fields,
    }
    return repo.book_create(Book(**values))


def make_chapter(repo, book: Book, number: int, **fields) -> Chapter:
    return repo.chapter_create(
        Chapter(book_id=book.id, number=number, title=f"Ch {number}", **fields)
    )


def run_threads(count: int, target) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- books -----------------------------------------------------------------------------------


def test_book_round_trip(repo):
    book = make_book(repo, title="토지", author="박경리", description="대하소설", language="ko")
    assert repo.book_get(book.id) == book


def test_unknown_book(repo):
    with pytest.raises(BookNotFound):
        repo.book_get("00000000-0000-0000-0000-000000000000")


def test_book_get_many_reads_the_books_that_exist(repo):
    books = [make_book(repo, n) for n in range(51)]  # 102 keys: two batches on DynamoDB
    make_chapter(repo, books[0], 1)
    missing = "00000000-0000-0000-0000-000000000000"
    wanted = [b.id for b in books] + [missing, books[0].id]
    found = repo.book_get_many(wanted)
    assert found == {b.id: repo.book_get(b.id) for b in books}
    assert found[books[0].id].chapter_count == 1
    assert repo.book_get_many([]) == {}


def test_book_access_with_chapter_reads_who_may_see_the_book_and_the_chapter(repo):
    book = make_book(repo, owner=7)
    other = make_book(repo, 1)
    chapter = make_chapter(repo, book, 1, status=ChapterStatus.READY, duration_seconds=3.5)
    foreign = make_chapter(repo, other, 1)
    access = BookAccess(id=book.id, owner=7, status=BookStatus.DRAFT)
    assert repo.book_access(book.id) == access == repo.book_get(book.id).access
    assert repo.book_access_with_chapter(book.id, chapter.id) == (
        access,
        repo.chapter_get(book.id, chapter.id),
    )
    # Another book's chapter, or none: the book alone.
    assert repo.book_access_with_chapter(book.id, foreign.id) == (access, None)
    missing = "00000000-0000-0000-0000-000000000000"
    assert repo.book_access_with_chapter(book.id, missing) == (access, None)
    with pytest.raises(BookNotFound):
        repo.book_access_with_chapter(missing, chapter.id)
    with pytest.raises(BookNotFound):
        repo.book_access(missing)


def test_book_access_follows_the_status_and_the_delete(repo):
    book = make_book(repo, owner=7)
    chapter = make_chapter(repo, book, 1, status=ChapterStatus.READY)
    published = repo.book_set_status(
        book.replace(status=BookStatus.PUBLISHED, published_at=T0), expected_version=1
    )
    assert repo.book_access(book.id).status == BookStatus.PUBLISHED
    assert repo.book_access_with_chapter(book.id, chapter.id)[0] == published.access
    repo.book_set_status(
        published.replace(status=BookStatus.DRAFT, published_at=None), expected_version=2
    )
    assert repo.book_access(book.id).status == BookStatus.DRAFT
    assert repo.book_access_with_chapter(book.id, chapter.id)[0].status == BookStatus.DRAFT
    repo.book_delete(book.id)
    with pytest.raises(BookNotFound):
        repo.book_access(book.id)
    with pytest.raises(BookNotFound):
        repo.book_access_with_chapter(book.id, chapter.id)


def test_book_update_bumps_version_and_rejects_stale(repo):
    book = make_book(repo)
    updated = repo.book_update(book.replace(title="New"), expected_version=1)
    assert (updated.title, updated.version) == ("New", 2)
    assert repo.book_get(book.id).title == "New"
    with pytest.raises(VersionConflict):
        repo.book_update(book.replace(title="Stale"), expected_version=1)
    assert repo.book_get(book.id).title == "New"
    with pytest.raises(BookNotFound):
        repo.book_update(book.replace(id="missing"), expected_version=1)


def test_book_update_keeps_chapter_count(repo):
    book = make_book(repo)
    make_chapter(repo, book, 1)
    updated = repo.book_update(book.replace(title="Renamed"), expected_version=1)
    assert updated.chapter_count == 1


def test_concurrent_updates_lose_nothing(repo):
    book = make_book(repo, description="")

    def append(i: int) -> int:
        for _ in range(200):
            current = repo.book_get(book.id)
            try:
                repo.book_update(
                    current.replace(description=current.description + f"[{i}]"),
                    expected_version=current.version,
                )
                return i
            except VersionConflict:
                continue
        raise AssertionError("never got through")

    results = run_threads(6, append)
    assert sorted(results) == list(range(6))
    final = repo.book_get(book.id)
    assert final.version == 7
    assert sorted(final.description.strip("[]").split("][")) == [str(i) for i in range(6)]


def test_book_list_pages_newest_first(repo):
    books = [make_book(repo, n) for n in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        page = repo.book_list(limit=2, cursor=cursor, visible=EVERY_BOOK)
        seen += [b.id for b in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [b.id for b in reversed(books)]
    assert pages == 3


def test_book_list_exact_page_has_no_next(repo):
    for n in range(2):
        make_book(repo, n)
    assert repo.book_list(limit=2, visible=EVERY_BOOK).next_cursor is None


def test_tampered_or_foreign_cursor_is_rejected(repo):
    for n in range(3):
        make_book(repo, n)
    cursor = repo.book_list(limit=1, visible=EVERY_BOOK).next_cursor
    with pytest.raises(InvalidCursor):
        repo.book_list(limit=1, cursor=cursor[:-2] + "xx", visible=EVERY_BOOK)
    with pytest.raises(InvalidCursor):
        repo.book_list(limit=1, cursor="not-a-cursor", visible=EVERY_BOOK)
    book = repo.book_list(limit=1, visible=EVERY_BOOK).items[0]
    with pytest.raises(InvalidCursor):
        repo.chapter_list(book.id, limit=1, cursor=cursor)


def test_book_search(repo):
    make_book(repo, 1, title="The Hobbit", author="Tolkien")
    make_book(repo, 2, title="Dune", author="Herbert")
    make_book(repo, 3, title="Silmarillion", author="J.R.R. TOLKIEN")
    found = repo.book_search(query="tolkien", visible=EVERY_BOOK, limit=10)
    assert [b.title for b in found.items] == ["Silmarillion", "The Hobbit"]
    first = repo.book_search(query="tolkien", visible=EVERY_BOOK, limit=1)
    assert [b.title for b in first.items] == ["Silmarillion"]
    rest = repo.book_search(query="tolkien", visible=EVERY_BOOK, limit=1, cursor=first.next_cursor)
    assert [b.title for b in rest.items] == ["The Hobbit"]


def test_book_delete_removes_chapters(repo):
    book = make_book(repo)
    other = make_book(repo, 1)
    chapters = [make_chapter(repo, book, n) for n in (1, 2, 3)]
    kept = make_chapter(repo, other, 1)
    deleted = repo.book_delete(book.id)
    assert sorted(c.id for c in deleted) == sorted(c.id for c in chapters)
    with pytest.raises(BookNotFound):
        repo.book_get(book.id)
    for chapter in chapters:
        with pytest.raises(ChapterNotFound):
            repo.chapter_get(book.id, chapter.id)
        with pytest.raises(ChapterNotFound):
            repo.chapter_find(chapter.id)
    assert repo.chapter_get(other.id, kept.id) == kept
    with pytest.raises(BookNotFound):
        repo.book_delete(book.id)


def test_book_delete_many_chapters(repo):
    book = make_book(repo)
    for n in range(1, 31):  # more than one DynamoDB batch
        make_chapter(repo, book, n)
    assert len(repo.book_delete(book.id)) == 30
    assert repo.chapter_list(book.id, limit=100).items == []


# --- chapters --------------------------------------------------------------------------------


def test_chapter_round_trip(repo):
    book = make_book(repo)
    chapter = make_chapter(
        repo,
        book,
        1,
        status=ChapterStatus.READY,
        duration_seconds=2.046,
        faststart=True,
        size_bytes=9342,
        content_type="audio/mp4",
        original_filename="첫 장.m4a",
        object_key="media/x",
        revision="abc123",
    )
    assert repo.chapter_find(chapter.id) == chapter
    assert repo.chapter_get(book.id, chapter.id) == chapter


def test_chapters_in_number_order(repo):
    book = make_book(repo)
    for n in (2, 10, 1, 9, 11, 3):
        make_chapter(repo, book, n)
    numbers = [c.number for c in repo.chapter_list(book.id, limit=50).items]
    assert numbers == [1, 2, 3, 9, 10, 11]
    assert repo.chapter_last_number(book.id) == 11
    assert repo.book_get(book.id).chapter_count == 6


def test_chapter_list_pages(repo):
    book = make_book(repo)
    for n in range(1, 6):
        make_chapter(repo, book, n)
    first = repo.chapter_list(book.id, limit=2)
    second = repo.chapter_list(book.id, limit=2, cursor=first.next_cursor)
    third = repo.chapter_list(book.id, limit=2, cursor=second.next_cursor)
    assert [c.number for c in first.items + second.items + third.items] == [1, 2, 3, 4, 5]
    assert third.next_cursor is None


def test_last_number_of_empty_book(repo):
    assert repo.chapter_last_number(make_book(repo).id) == 0


def test_chapter_number_is_unique(repo):
    book = make_book(repo)
    make_chapter(repo, book, 1)
    with pytest.raises(ChapterNumberTaken):
        make_chapter(repo, book, 1)
    assert repo.book_get(book.id).chapter_count == 1


def test_concurrent_creates_of_one_number_have_one_winner(repo):
    book = make_book(repo)
    results = run_threads(8, lambda i: make_chapter(repo, book, 7))
    winners = [r for r in results if isinstance(r, Chapter)]
    losers = [r for r in results if not isinstance(r, Chapter)]
    assert len(winners) == 1
    assert all(isinstance(r, (ChapterNumberTaken, VersionConflict)) for r in losers), losers
    assert [c.id for c in repo.chapter_list(book.id, limit=10).items] == [winners[0].id]
    assert repo.book_get(book.id).chapter_count == 1


def test_chapter_needs_its_book(repo):
    with pytest.raises(BookNotFound):
        repo.chapter_create(Chapter(book_id="missing", number=1, title="x"))


def test_chapter_update_and_stale_update(repo):
    book = make_book(repo)
    chapter = make_chapter(repo, book, 1)
    ready = repo.chapter_update(
        chapter.replace(status=ChapterStatus.READY, duration_seconds=1.5), previous=chapter
    )
    assert ready.version == 2
    assert repo.chapter_get(book.id, chapter.id) == ready
    with pytest.raises(VersionConflict):
        repo.chapter_update(chapter.replace(title="stale"), previous=chapter)


def test_chapter_renumber(repo):
    book = make_book(repo)
    chapter = make_chapter(repo, book, 1)
    make_chapter(repo, book, 2)
    moved = repo.chapter_update(chapter.replace(number=5), previous=chapter)
    assert repo.chapter_get(book.id, chapter.id) == moved
    assert [c.number for c in repo.chapter_list(book.id, limit=10).items] == [2, 5]
    with pytest.raises(ChapterNumberTaken):
        repo.chapter_update(moved.replace(number=2), previous=moved)
    assert repo.chapter_get(book.id, chapter.id).number == 5


def test_writes_from_before_a_renumber_are_refused(repo):
    book = make_book(repo)
    chapter = make_chapter(repo, book, 1)
    moved = repo.chapter_update(chapter.replace(number=2), previous=chapter)
    with pytest.raises(VersionConflict):
        repo.chapter_update(chapter.replace(title="stale"), previous=chapter)
    with pytest.raises(VersionConflict):
        repo.chapter_update(chapter.replace(number=3), previous=chapter)
    with pytest.raises(VersionConflict):
        repo.chapter_delete(chapter)
    assert repo.chapter_get(book.id, chapter.id) == moved
    assert [c.number for c in repo.chapter_list(book.id, limit=10).items] == [2]


def test_chapter_delete(repo):
    book = make_book(repo)
    chapter = make_chapter(repo, book, 1)
    with pytest.raises(VersionConflict):
        repo.chapter_delete(chapter.replace(version=9))
    repo.chapter_delete(chapter)
    with pytest.raises(ChapterNotFound):
        repo.chapter_get(book.id, chapter.id)
    assert repo.book_get(book.id).chapter_count == 0


def test_changing_a_chapter_deleted_meanwhile_is_not_found(repo):
    """Another request deleted the chapter after this one read it: every change says it is
    gone (404), not that it changed (409), whichever write the change needs."""
    book = make_book(repo)
    chapter = make_chapter(repo, book, 1)
    repo.chapter_delete(chapter)
    with pytest.raises(ChapterNotFound):
        repo.chapter_update(chapter.replace(title="late"), previous=chapter)
    with pytest.raises(ChapterNotFound):
        repo.chapter_update(chapter.replace(number=2), previous=chapter)
    with pytest.raises(ChapterNotFound):
        repo.chapter_delete(chapter)
    assert repo.chapter_list(book.id, limit=10).items == []
    assert repo.chapter_last_number(book.id) == 0


def test_unknown_chapter(repo):
    book = make_book(repo)
    with pytest.raises(ChapterNotFound):
        repo.chapter_get(book.id, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(ChapterNotFound):
        repo.chapter_find("00000000-0000-0000-0000-000000000000")


def test_chapters_by_status(repo):
    book = make_book(repo)
    for n in range(1, 6):
        status = ChapterStatus.FAILED if n % 2 else ChapterStatus.READY
        make_chapter(repo, book, n, status=status, updated_at=T0 + timedelta(minutes=n))
    failed = repo.chapters_by_status(ChapterStatus.FAILED, limit=2)
    rest = repo.chapters_by_status(ChapterStatus.FAILED, limit=2, cursor=failed.next_cursor)
    assert [c.number for c in failed.items + rest.items] == [5, 3, 1]
    assert rest.next_cursor is None


def test_ping(repo):
    repo.ping()


def test_concurrent_automatic_numbering(repo, editor):
    from books import services

    book = make_book(repo, owner=editor.pk)

    def add(i: int) -> int:
        chapter, _ = services.chapter_create(
            user=editor,
            book_id=book.id,
            title=f"Ch {i}",
            filename="c.m4a",
            content_type="audio/mp4",
            size_bytes=10,
            base_url="http://testserver/",
        )
        return chapter.number

    numbers = run_threads(20, add)
    assert sorted(numbers) == list(range(1, 21)), numbers
    assert [c.number for c in repo.chapter_list(book.id, limit=50).items] == list(range(1, 21))
    assert repo.book_get(book.id).chapter_count == 20
    assert repo.chapter_last_number(book.id) == 20


def test_a_renumber_after_the_book_is_gone_leaves_nothing(repo):
    book = make_book(repo)
    chapter = make_chapter(repo, book, 1)
    repo.book_delete(book.id)
    with pytest.raises((VersionConflict, ChapterNotFound, BookNotFound)):
        repo.chapter_update(chapter.replace(number=2), previous=chapter)
    with pytest.raises((VersionConflict, ChapterNotFound, BookNotFound)):
        repo.chapter_update(chapter.replace(title="late"), previous=chapter)
    assert repo.chapter_list(book.id, limit=10).items == []
    with pytest.raises(ChapterNotFound):
        repo.chapter_find(chapter.id)
    with pytest.raises(BookNotFound):
        repo.chapter_create(Chapter(book_id=book.id, number=3, title="late"))


def test_a_chapter_belongs_to_its_book(repo):
    book = make_book(repo)
    other = make_book(repo, 1)
    chapter = make_chapter(repo, book, 1)
    with pytest.raises(ChapterNotFound):
        repo.chapter_get(other.id, chapter.id)


def test_chapter_list_follows_pages_to_the_end(repo):
    book = make_book(repo)
    for n in range(1, 8):
        make_chapter(repo, book, n)
    for limit in range(1, 9):
        seen, cursor = [], None
        while True:
            page = repo.chapter_list(book.id, limit=limit, cursor=cursor)
            assert len(page.items) == limit or page.next_cursor is None
            seen += [c.number for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == list(range(1, 8)), limit


def test_a_rare_match_is_found_past_many_books(repo):
    """A search reads the partition of its rarest term, not the catalogue: the one match comes
    in the first page, however many books were written after it."""
    make_book(repo, 0, author="Rare Author")
    for n in range(1, 150):
        make_book(repo, n)
    found = repo.book_search(query="rare author", visible=EVERY_BOOK, limit=5)
    assert [b.author for b in found.items] == ["Rare Author"]


def counts(repo, book: Book) -> tuple[int, int]:
    stored = repo.book_get(book.id)
    return stored.chapter_count, stored.ready_count


def test_the_ready_count_follows_the_chapters_statuses(repo):
    book = make_book(repo)
    assert counts(repo, book) == (0, 0)
    created_ready = make_chapter(repo, book, 1, status=ChapterStatus.READY)
    pending = make_chapter(repo, book, 2)
    assert counts(repo, book) == (2, 1)
    # Completed, then failed (a check found the audio gone), then re-uploaded and completed.
    ready = repo.chapter_update(pending.replace(status=ChapterStatus.READY), previous=pending)
    assert counts(repo, book) == (2, 2)
    failed = repo.chapter_update(ready.replace(status=ChapterStatus.FAILED), previous=ready)
    assert counts(repo, book) == (2, 1)
    again = repo.chapter_update(
        failed.replace(status=ChapterStatus.PENDING_UPLOAD), previous=failed
    )
    assert counts(repo, book) == (2, 1)
    ready = repo.chapter_update(again.replace(status=ChapterStatus.READY), previous=again)
    assert counts(repo, book) == (2, 2)
    # A title change of a ready chapter moves nothing; a stale write moves nothing either.
    renamed = repo.chapter_update(ready.replace(title="Renamed"), previous=ready)
    with pytest.raises(VersionConflict):
        repo.chapter_update(ready.replace(status=ChapterStatus.FAILED), previous=ready)
    assert counts(repo, book) == (2, 2)
    # Renumbered: still ready; renumbered and failed in one write: one fewer.
    moved = repo.chapter_update(renamed.replace(number=7), previous=renamed)
    assert counts(repo, book) == (2, 2)
    moved = repo.chapter_update(
        moved.replace(number=8, status=ChapterStatus.FAILED), previous=moved
    )
    assert counts(repo, book) == (2, 1)
    moved = repo.chapter_update(moved.replace(number=9, status=ChapterStatus.READY), previous=moved)
    assert counts(repo, book) == (2, 2)
    # Deleted: a ready one takes its count with it; a failed one only the chapter count.
    repo.chapter_delete(created_ready)
    assert counts(repo, book) == (1, 1)
    failed = repo.chapter_update(moved.replace(status=ChapterStatus.FAILED), previous=moved)
    repo.chapter_delete(failed)
    assert counts(repo, book) == (0, 0)


def test_the_ready_count_is_read_wherever_the_book_is(repo):
    book = make_book(repo)
    make_chapter(repo, book, 1, status=ChapterStatus.READY)
    make_chapter(repo, book, 2)
    assert repo.book_get_many([book.id])[book.id].ready_count == 1
    assert [b.ready_count for b in repo.book_list(limit=5, visible=EVERY_BOOK).items] == [1]
    assert [
        b.ready_count for b in repo.book_search(query="Book", visible=EVERY_BOOK, limit=5).items
    ] == [1]
    updated = repo.book_update(book.replace(title="Retitled"), expected_version=book.version)
    assert (updated.chapter_count, updated.ready_count) == (2, 1)


def test_concurrent_completions_of_one_book_count_every_one(repo):
    book = make_book(repo)
    chapters = [make_chapter(repo, book, n) for n in range(1, 5)]

    def complete(i: int) -> Chapter:
        chapter = chapters[i]
        return repo.chapter_update(chapter.replace(status=ChapterStatus.READY), previous=chapter)

    results = run_threads(len(chapters), complete)
    assert all(isinstance(r, Chapter) for r in results), results
    assert counts(repo, book) == (4, 4)


def test_a_completion_racing_another_write_of_the_chapter_counts_once(repo):
    book = make_book(repo)
    chapter = make_chapter(repo, book, 1)
    results = run_threads(
        4,
        lambda i: repo.chapter_update(
            chapter.replace(status=ChapterStatus.READY), previous=chapter
        ),
    )
    winners = [r for r in results if isinstance(r, Chapter)]
    assert len(winners) == 1
    assert all(isinstance(r, VersionConflict) for r in results if r not in winners), results
    assert counts(repo, book) == (1, 1)


def test_a_completion_in_a_deleted_book_leaves_no_head(repo):
    book = make_book(repo)
    chapter = make_chapter(repo, book, 1)
    repo.book_delete(book.id)
    with pytest.raises((ChapterNotFound, BookNotFound)):
        repo.chapter_update(chapter.replace(status=ChapterStatus.READY), previous=chapter)
    with pytest.raises(BookNotFound):
        repo.book_get(book.id)
