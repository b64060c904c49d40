"""Covers in the repository contract, on every backend (SQL, DynamoDB on moto, DynamoDB Local):
the version-checked cover write, and every read of a book carrying its cover."""

from __future__ import annotations

import pytest

from books.domain import EVERY_BOOK, PUBLISHED_BOOKS, BookStatus, BookVisibility
from books.errors import BookNotFound, VersionConflict
from tests.books import test_repository_contract as contract
from tests.books.test_repository_contract import T0, make_book, make_chapter

repo = contract.repo

COVER = "covers/books/{}/0123456789abcdef0123456789abcdef.jpg"
UPLOAD = "uploads/covers/{}/fedcba9876543210fedcba9876543210"


def test_a_cover_write_is_conditional_and_bumps_the_version(repo):
    book = make_book(repo)
    pending = repo.book_set_cover(
        book.replace(cover_upload_key=UPLOAD.format(book.id)), expected_version=1
    )
    assert (pending.version, pending.cover_upload_key, pending.cover_key) == (
        2,
        UPLOAD.format(book.id),
        "",
    )
    with pytest.raises(VersionConflict):
        repo.book_set_cover(book.replace(cover_key="stale"), expected_version=1)
    covered = repo.book_set_cover(
        pending.replace(cover_key=COVER.format(book.id), cover_upload_key=""), expected_version=2
    )
    assert (covered.version, covered.cover_key, covered.cover_upload_key) == (
        3,
        COVER.format(book.id),
        "",
    )
    assert repo.book_get(book.id) == covered
    cleared = repo.book_set_cover(covered.replace(cover_key=""), expected_version=3)
    assert (cleared.cover_key, cleared.cover_upload_key, cleared.version) == ("", "", 4)
    with pytest.raises(BookNotFound):
        repo.book_set_cover(book.replace(id="missing"), expected_version=1)


def test_a_cover_write_changes_nothing_else(repo):
    book = make_book(
        repo, description="long " * 100, language="ko", status=BookStatus.PUBLISHED, published_at=T0
    )
    make_chapter(repo, book, 1)
    covered = repo.book_set_cover(
        repo.book_get(book.id).replace(cover_key=COVER.format(book.id)), expected_version=1
    )
    assert covered.replace(cover_key="", version=1) == repo.book_get(book.id).replace(
        cover_key="", version=1
    )
    assert covered.chapter_count == 1 and covered.status == BookStatus.PUBLISHED
    # An edit and a status change keep the cover.
    edited = repo.book_update(covered.replace(title="Renamed"), expected_version=2)
    assert edited.cover_key == COVER.format(book.id)
    drafted = repo.book_set_status(
        edited.replace(status=BookStatus.DRAFT, published_at=None), expected_version=3
    )
    assert drafted.cover_key == COVER.format(book.id)


def test_every_read_carries_the_cover(repo):
    owner = 7
    draft = make_book(repo, 1, owner=owner)
    published = make_book(repo, 2, status=BookStatus.PUBLISHED, published_at=T0)
    make_chapter(repo, published, 1)
    for book in (draft, published):
        repo.book_set_cover(book.replace(cover_key=COVER.format(book.id)), expected_version=1)
    expected = {draft.id: COVER.format(draft.id), published.id: COVER.format(published.id)}
    for visible in (EVERY_BOOK, BookVisibility(drafts_of=owner)):
        page = repo.book_list(limit=10, visible=visible)
        assert {b.id: b.cover_key for b in page.items} == expected
    [listed] = repo.book_list(limit=10, visible=PUBLISHED_BOOKS).items
    assert listed.cover_key == expected[published.id]
    many = repo.book_get_many([draft.id, published.id])
    assert {i: b.cover_key for i, b in many.items()} == expected


def test_a_book_being_deleted_takes_no_cover(repo):
    book = make_book(repo)
    repo.book_delete(book.id)
    with pytest.raises(BookNotFound):
        repo.book_set_cover(book.replace(cover_key=COVER.format(book.id)), expected_version=1)


def test_on_dynamodb_a_half_deleted_book_takes_no_cover(dynamodb):
    """A delete marks the head first (books/repository/dynamodb/repository.py); a cover written
    after the mark would name an object the finished delete never removes."""
    from django.conf import settings

    from books.repository import get_repository
    from books.repository.dynamodb.items import head_key
    from voj.aws import aws_client

    repository = get_repository()
    book = make_book(repository)
    aws_client("dynamodb").update_item(
        TableName=settings.VOJ_BOOKS_TABLE,
        Key=head_key(book.id),
        UpdateExpression="SET deleting = :yes",
        ExpressionAttributeValues={":yes": {"BOOL": True}},
    )
    with pytest.raises(BookNotFound):
        repository.book_set_cover(book.replace(cover_key=COVER.format(book.id)), expected_version=1)
