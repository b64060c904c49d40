"""The repository's search, one contract on every backend (SQL, moto, DynamoDB Local)."""

from __future__ import annotations

import unicodedata

import pytest

from books.domain import EVERY_BOOK, PUBLISHED_BOOKS, BookStatus, BookVisibility
from books.errors import InvalidCursor
from tests.books.test_repository_contract import make_book, repo  # noqa: F401 (fixture)


def titles(page) -> list[str]:
    return [book.title for book in page.items]


def search(repo, query, visible=EVERY_BOOK, limit=20, cursor=None):  # noqa: F811
    return repo.book_search(query=query, visible=visible, limit=limit, cursor=cursor)


def published(repo, n, **fields):  # noqa: F811
    book = make_book(repo, n, **fields)
    return repo.book_set_status(
        book.replace(status=BookStatus.PUBLISHED, published_at=book.created_at),
        expected_version=book.version,
    )


def test_korean_and_latin_examples(repo):  # noqa: F811
    make_book(repo, 1, title="어린 왕자", author="앙투안 드 생텍쥐페리")
    make_book(repo, 2, title="The Little Prince", author="Antoine de Saint-Exupéry")
    make_book(repo, 3, title="Crème brûlée", author="Chef")
    assert titles(search(repo, "왕자")) == ["어린 왕자"]
    assert titles(search(repo, "린왕")) == []
    assert titles(search(repo, "PRIN")) == ["The Little Prince"]
    assert titles(search(repo, "exupery")) == ["The Little Prince"]
    assert titles(search(repo, "creme")) == ["Crème brûlée"]
    assert titles(search(repo, unicodedata.normalize("NFD", "어린 왕자"))) == ["어린 왕자"]
    assert titles(search(repo, "little saint")) == ["The Little Prince"]
    assert titles(search(repo, "little chef")) == []
    assert search(repo, "nothing like it").items == []
    assert search(repo, "!!!").items == []


def test_decomposed_hangul_in_a_title_is_found_composed(repo):  # noqa: F811
    make_book(repo, 1, title=unicodedata.normalize("NFD", "어린 왕자"))
    assert len(search(repo, "왕자").items) == 1


def test_titles_rank_before_author_only_matches_then_newest_first(repo):  # noqa: F811
    make_book(repo, 1, title="Old prince", author="X")
    make_book(repo, 2, title="Other", author="Prince Rogers")
    make_book(repo, 3, title="New prince", author="Y")
    make_book(repo, 4, title="Newer", author="Princeton")
    assert titles(search(repo, "prince")) == ["New prince", "Old prince", "Newer", "Other"]


def test_visibility_as_in_listings(repo):  # noqa: F811
    make_book(repo, 1, title="Draft of one", owner=1)
    make_book(repo, 2, title="Draft of two", owner=2)
    published(repo, 3, title="Published one", owner=2)
    assert titles(search(repo, "one", PUBLISHED_BOOKS)) == ["Published one"]
    assert titles(search(repo, "one", BookVisibility(drafts_of=1))) == [
        "Published one",
        "Draft of one",
    ]
    assert titles(search(repo, "draft", BookVisibility(drafts_of=2))) == ["Draft of two"]
    assert len(search(repo, "o", EVERY_BOOK).items) == 3


def test_a_rename_unpublish_or_delete_stops_matching_at_once(repo):  # noqa: F811
    book = published(repo, 1, title="Moby Dick", owner=1)
    assert titles(search(repo, "moby", PUBLISHED_BOOKS)) == ["Moby Dick"]
    renamed = repo.book_update(book.replace(title="White Whale"), expected_version=book.version)
    assert search(repo, "moby", PUBLISHED_BOOKS).items == []
    assert titles(search(repo, "whale", PUBLISHED_BOOKS)) == ["White Whale"]
    draft = repo.book_set_status(
        renamed.replace(status=BookStatus.DRAFT, published_at=None),
        expected_version=renamed.version,
    )
    assert search(repo, "whale", PUBLISHED_BOOKS).items == []
    assert titles(search(repo, "whale", BookVisibility(drafts_of=1))) == ["White Whale"]
    repo.book_delete(draft.id)
    assert search(repo, "whale", EVERY_BOOK).items == []


def test_a_rename_back_keeps_its_terms(repo):  # noqa: F811
    book = make_book(repo, 1, title="Alpha")
    second = repo.book_update(book.replace(title="Beta"), expected_version=book.version)
    third = repo.book_update(second.replace(title="Alpha"), expected_version=second.version)
    assert titles(search(repo, "alpha")) == ["Alpha"]
    assert search(repo, "beta").items == []
    assert third.version == 3


def test_pages_follow_without_duplicates(repo):  # noqa: F811
    for n in range(7):
        make_book(repo, n, title=f"Prince {n}", author="A")
    for n in range(7, 12):
        make_book(repo, n, title=f"Other {n}", author="Princely")
    seen: list[str] = []
    cursor = None
    while True:
        page = search(repo, "prince", limit=3, cursor=cursor)
        seen += titles(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = [f"Prince {n}" for n in range(6, -1, -1)] + [f"Other {n}" for n in range(11, 6, -1)]
    assert seen == expected


def test_cursors_of_other_queries_and_of_listings_are_refused(repo):  # noqa: F811
    for n in range(3):
        make_book(repo, n, title=f"Prince {n}")
    cursor = search(repo, "prince", limit=1).next_cursor
    listing = repo.book_list(limit=1, visible=EVERY_BOOK).next_cursor
    for bad in (listing, "forged", search(repo, "prin", limit=1).next_cursor):
        with pytest.raises(InvalidCursor):
            search(repo, "prince", limit=1, cursor=bad)
    with pytest.raises(InvalidCursor):
        repo.book_list(limit=1, visible=EVERY_BOOK, cursor=cursor)


def test_like_wildcards_match_nothing_special(repo):  # noqa: F811
    make_book(repo, 1, title="100% cotton_wool")
    assert search(repo, "%").items == []
    assert search(repo, "_").items == []
    assert titles(search(repo, "cotton_wool")) == ["100% cotton_wool"]
    assert search(repo, "c%n").items == []


def test_two_common_words_find_their_one_book_on_the_first_page(repo):  # noqa: F811
    """On DynamoDB the candidates of one word's partition are filtered on the other word
    before any book is read: 60 books of each word, one with both, the oldest."""
    make_book(repo, 0, title="Alpha beta")
    for n in range(1, 61):
        make_book(repo, n, title=f"Alpha {n}")
        make_book(repo, 1000 + n, title=f"Beta {n}")
    page = search(repo, "beta alpha")
    assert titles(page) == ["Alpha beta"] and page.next_cursor is None
