"""The units of the API calls the cost model prices (deploy/bench/api_units.py), on DynamoDB
Local."""

from __future__ import annotations

import pytest

from deploy.bench import api_units


@pytest.mark.dynamodb_local
def test_the_listeners_calls_read_the_head_not_the_book_item(dynamodb_local, db):
    """The book carries a 5,000-character description (15 KB, 4 units read consistently): the
    listener's calls read its head instead, whatever the description. stream-url named with
    its book: one BatchGetItem of the account record (absent: an account that changed nothing;
    DynamoDB Local charges a batch nothing for a key it does not find, and the bench adds the 1
    unit DynamoDB charges a consistent read of a missing item), the head read consistently (1)
    and the chapter (0.5); a progress write: the same BatchGetItem with the head and the
    chapter eventually consistent (0.5 + 0.5), then the progress (0.5) and its write."""
    figures = api_units.measure(dynamodb_local)
    assert figures[api_units.STREAM_URL] == (0.0, 2.5, 1)
    assert figures[api_units.PROGRESS] == (1.0, 2.5, 3)
