"""What a search costs (deploy/bench/search_costs.py), run on DynamoDB Local with few books:
the same queries as the 10,000 books' in docs/performance.md, cheaply."""

from __future__ import annotations

import pytest

from deploy.bench import search_costs


@pytest.mark.dynamodb_local
def test_searches_read_a_bounded_number_of_items(dynamodb_local):
    measured = search_costs.measure(dynamodb_local, books=400, runs=1)
    assert list(measured) == [label for label, _ in search_costs.QUERIES]
    common, rare, hangul, two, none = measured.values()
    # One Query of the term, one BatchGetItem of the candidates.
    assert (common.requests, rare.requests, hangul.requests) == (2, 2, 2)
    assert common.found > 10 and hangul.found > 5 and rare.found == 1
    # Two words: a COUNT of each word's partition first, then rounds of candidates, bounded.
    from books.repository.dynamodb.search import SEARCH_ROUNDS

    assert 4 <= two.requests <= 2 + 2 * SEARCH_ROUNDS and 0 < two.found < common.found
    # The other word filters the partition: the books read are nearly all shown.
    assert two.read_units <= 2 * (two.found + 1) + 5
    # Nothing under the term: one Query, nothing read after it.
    assert (none.found, none.requests, none.read_units) == (0, 1, 0)
    # Each candidate is a consistent read of its book and head: about 2 units, never more
    # than a page's worth of candidates.
    assert common.read_units <= 2 * (search_costs.PAGE_SIZE + 1) + 1
    text = search_costs.section(measured, books=400)
    assert "on 400 books" in text and "| rare word: `zanzibar` | 1 |" in text


def test_the_catalogue_plants_its_words_at_their_rates():
    import random

    rng = random.Random(search_costs.SEED)
    books = [search_costs._book(rng, n, 1000) for n in range(1000)]
    titles = [book.title.casefold() for book in books]
    assert sum("zanzibar" in title for title in titles) == 1
    assert sum("little prince" in title for title in titles) == 10
    assert 40 <= sum("prince" in title.split() for title in titles) <= 70
    assert sum(book.status == "draft" for book in books) == 100
