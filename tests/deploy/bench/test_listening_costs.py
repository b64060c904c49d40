"""The listening table's units (deploy/bench/listening_costs.py), run on DynamoDB Local: the
figures docs/performance.md gives for progress, the shelf, bookmarks and a book's deletion."""

from __future__ import annotations

import pytest

from deploy.bench import listening_costs

REPORTS = [name for name, *_ in listening_costs.REPORTS]


@pytest.mark.dynamodb_local
def test_a_report_costs_one_write_unit_after_the_first_whatever_the_device(dynamodb_local):
    # Small shelves and few listeners: the same calls as the page's, cheaply. 25 books is more
    # than a page, so the shelf's first page is cut from all of them.
    measured = listening_costs.measure(dynamodb_local, shelves=(3, 25), listeners=(2,))
    assert list(measured) == [listening_costs.SMALL.label, listening_costs.LARGEST.label]
    for figures in measured.values():
        first, *later, nothing = (figures[name] for name in REPORTS)
        # The item and its by-book entry; every report reads the progress once first, and one
        # that changes nothing reads it again, consistently, before it writes nothing.
        assert first == (2.0, 0.5, 2)
        assert later == [(1.0, 0.5, 2)] * 3
        assert nothing == (0.0, 1.5, 2)
        # Transactions are charged twice: a bookmark and its counter cost more than one unit.
        create = figures["bookmark create, another"]
        assert create[0] > 2 and create[2] == 1
        assert figures[listening_costs.shelf_row(25)][2] == 1
        # One Query of by-book, one batch of deletes (2 listeners x 3 items).
        assert figures[listening_costs.forget_row(2)][2] == 2
    small, largest = measured.values()
    # A note of 1,000 4-byte characters is paid in the bookmark and both its local indexes.
    assert largest["bookmark create, another"][0] > small["bookmark create, another"][0]
    text = " ".join(listening_costs.section(measured, shelves=(3, 25), listeners=(2,)).split())
    assert "within the goal of 1 write unit" in text
    assert "for 25 books started" in text


def test_the_table_has_the_three_figures_of_each_item_size():
    measured = {
        "small": {"progress report": (1.0, 0.5, 2)},
        "largest": {"progress report": (1.0, 0.5, 2)},
    }
    rows = listening_costs.table(measured).splitlines()
    assert rows[0] == (
        "| call | WCU, small | RCU, small | requests, small | WCU, largest | RCU, largest "
        "| requests, largest |"
    )
    assert rows[1] == "|---|---|---|---|---|---|---|"
    assert rows[2] == "| progress report | 1 | 0.5 | 2 | 1 | 0.5 | 2 |"


def test_prose_is_refilled_and_tables_kept():
    table = "| a | b |\n|---|---|\n| 1 | 2 |"
    text = listening_costs.filled(f"### Title\n\n{'word ' * 40}\nmore\n\n{table}")
    heading, prose, kept = text.split("\n\n")
    assert heading == "### Title"
    assert all(len(line) <= 96 for line in prose.splitlines())
    assert prose.split() == ["word"] * 40 + ["more"]
    assert kept == table
