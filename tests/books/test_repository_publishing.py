"""Publishing in the repository contract, on every backend (SQL, DynamoDB on moto, DynamoDB
Local): the status round trip, conditional status changes, and lists by visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest

from books.domain import (
    EVERY_BOOK,
    PUBLISHED_BOOKS,
    BookStatus,
    BookVisibility,
    ChapterStatus,
)
from books.errors import BookNotFound, InvalidCursor, VersionConflict
from tests.books import test_repository_contract as contract
from tests.books.test_repository_contract import T0, make_book, make_chapter

# The contract's backends: SQL, DynamoDB on moto, DynamoDB Local.
repo = contract.repo

PUBLISHED = {"status": BookStatus.PUBLISHED, "published_at": T0}


def listed(repo, visible: BookVisibility, limit: int) -> list[str]:
    """Every title the list shows, page after page."""
    titles, cursor = [], None
    while True:
        page = repo.book_list(limit=limit, cursor=cursor, visible=visible)
        assert len(page.items) <= limit
        titles += [book.title for book in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return titles


def test_a_new_book_is_a_draft(repo):
    book = make_book(repo)
    stored = repo.book_get(book.id)
    assert (stored.status, stored.published_at) == (BookStatus.DRAFT, None)


def test_a_published_book_round_trips(repo):
    book = make_book(repo, **PUBLISHED)
    assert repo.book_get(book.id) == book


def test_status_changes_are_conditional_and_bump_the_version(repo):
    book = make_book(repo)
    at = T0 + timedelta(days=1)
    published = repo.book_set_status(
        book.replace(status=BookStatus.PUBLISHED, published_at=at, updated_at=at),
        expected_version=1,
    )
    assert (published.status, published.published_at, published.version) == (
        BookStatus.PUBLISHED,
        at,
        2,
    )
    assert repo.book_get(book.id) == published
    with pytest.raises(VersionConflict):
        repo.book_set_status(book.replace(status=BookStatus.DRAFT), expected_version=1)
    draft = repo.book_set_status(
        published.replace(status=BookStatus.DRAFT, published_at=None), expected_version=2
    )
    assert (draft.status, draft.published_at, draft.version) == (BookStatus.DRAFT, None, 3)
    assert repo.book_get(book.id) == draft
    with pytest.raises(BookNotFound):
        repo.book_set_status(book.replace(id="missing"), expected_version=1)


def test_an_edit_keeps_the_status(repo):
    book = make_book(repo, **PUBLISHED)
    make_chapter(repo, book, 1)
    edited = repo.book_update(book.replace(title="Renamed"), expected_version=1)
    assert (edited.status, edited.published_at, edited.chapter_count) == (
        BookStatus.PUBLISHED,
        T0,
        1,
    )


@pytest.fixture
def shelves(repo):
    """Books of two owners, alternating drafts and published, created in title order."""
    plan = [
        ("p0", 1, True),
        ("d1-mine", 1, False),
        ("d2-theirs", 2, False),
        ("p3", 2, True),
        ("d4-mine", 1, False),
        ("p5", 1, True),
        ("d6-theirs", 2, False),
        ("p7", 2, True),
    ]
    for n, (title, owner, published) in enumerate(plan):
        make_book(repo, n, title=title, owner=owner, **(PUBLISHED if published else {}))
    return repo


@pytest.mark.parametrize("limit", [1, 2, 3, 100])
def test_lists_by_visibility_newest_first(shelves, limit):
    assert listed(shelves, PUBLISHED_BOOKS, limit) == ["p7", "p5", "p3", "p0"]
    mine = ["p7", "p5", "d4-mine", "p3", "d1-mine", "p0"]
    assert listed(shelves, BookVisibility(drafts_of=1), limit) == mine
    everything = ["p7", "d6-theirs", "p5", "d4-mine", "p3", "d2-theirs", "d1-mine", "p0"]
    assert listed(shelves, EVERY_BOOK, limit) == everything


def test_listed_books_carry_their_status_and_chapter_count(repo):
    book = make_book(repo, **PUBLISHED)
    make_chapter(repo, book, 1)
    (only,) = repo.book_list(limit=10, visible=PUBLISHED_BOOKS).items
    assert only == repo.book_get(book.id)


def test_an_exact_visible_page_has_no_next(shelves):
    page = shelves.book_list(limit=4, visible=PUBLISHED_BOOKS)
    assert [b.title for b in page.items] == ["p7", "p5", "p3", "p0"]
    assert page.next_cursor is None
    assert shelves.book_list(limit=6, visible=BookVisibility(drafts_of=1)).next_cursor is None


def test_publishing_moves_a_book_between_lists(repo):
    draft = make_book(repo, owner=1)
    assert listed(repo, PUBLISHED_BOOKS, 10) == []
    assert listed(repo, BookVisibility(drafts_of=1), 10) == [draft.title]
    assert listed(repo, BookVisibility(drafts_of=2), 10) == []
    published = repo.book_set_status(
        draft.replace(status=BookStatus.PUBLISHED, published_at=T0), expected_version=1
    )
    assert listed(repo, PUBLISHED_BOOKS, 10) == [draft.title]
    assert listed(repo, BookVisibility(drafts_of=1), 10) == [draft.title]  # once, not twice
    assert listed(repo, BookVisibility(drafts_of=2), 10) == [draft.title]
    repo.book_set_status(
        published.replace(status=BookStatus.DRAFT, published_at=None), expected_version=2
    )
    assert listed(repo, PUBLISHED_BOOKS, 10) == []
    assert listed(repo, BookVisibility(drafts_of=2), 10) == []


def test_a_forged_visible_cursor_is_rejected(shelves):
    with pytest.raises(InvalidCursor):
        shelves.book_list(limit=1, cursor="not-a-cursor", visible=PUBLISHED_BOOKS)
    book = shelves.book_list(limit=1, visible=EVERY_BOOK).items[0]
    for number in (1, 2):
        make_chapter(shelves, book, number)
    chapters_cursor = shelves.chapter_list(book.id, limit=1).next_cursor
    with pytest.raises(InvalidCursor):
        shelves.book_list(limit=1, cursor=chapters_cursor, visible=PUBLISHED_BOOKS)


def test_ready_chapters_alone(repo):
    book = make_book(repo)
    statuses = [
        ChapterStatus.READY,
        ChapterStatus.PENDING_UPLOAD,
        ChapterStatus.FAILED,
        ChapterStatus.READY,
        ChapterStatus.PROCESSING,
        ChapterStatus.READY,
    ]
    for number, status in enumerate(statuses, start=1):
        make_chapter(repo, book, number, status=status)
    numbers, cursor = [], None
    while True:
        page = repo.chapter_list(book.id, limit=1, cursor=cursor, ready_only=True)
        numbers += [c.number for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert numbers == [1, 4, 6]
    assert [c.number for c in repo.chapter_list(book.id, limit=10).items] == [1, 2, 3, 4, 5, 6]
