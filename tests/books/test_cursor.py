"""Page cursors: opaque, signed, bound to their listing, and compact enough for a URL."""

from __future__ import annotations

import pytest

from books.errors import InvalidCursor
from books.repository.cursor import decode_cursor, encode_cursor

# A DynamoDB LastEvaluatedKey as the books listing carries it: repetitive JSON.
DYNAMODB_POSITION = {
    "key": {
        "book_id": {"S": "be1962ab-c637-44a2-9c8e-0e2d2cedb031"},
        "sk": {"S": "book"},
        "list_pk": {"S": "books"},
        "created_at": {
            "S": "2026-11-25T23:28:32.514123+00:00#be1962ab-c637-44a2-9c8e-0e2d2cedb031"
        },
    }
}


def test_a_cursor_decodes_to_its_position_for_its_listing_only():
    cursor = encode_cursor("books", DYNAMODB_POSITION)
    assert decode_cursor("books", cursor) == DYNAMODB_POSITION
    with pytest.raises(InvalidCursor):
        decode_cursor("chapters:x", cursor)


def test_a_cursor_is_compressed_when_that_makes_it_shorter():
    """Cursors travel in query strings: Django's signing compresses the payload when that
    saves space and marks it with a leading '.'."""
    from django.core import signing

    cursor = encode_cursor("books", DYNAMODB_POSITION)
    plain = signing.dumps({"k": "books", "p": DYNAMODB_POSITION}, salt="voj.repository.cursor")
    assert cursor.startswith(".")
    assert len(cursor) < 0.8 * len(plain)


@pytest.mark.parametrize(
    "cursor",
    ["", "not-a-cursor", "e30:abc:def", encode_cursor("books", DYNAMODB_POSITION)[:-2] + "xx"],
)
def test_a_forged_or_damaged_cursor_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor("books", cursor)
