"""The write-unit benchmark (deploy/bench/dynamodb.py), run on DynamoDB Local."""

from __future__ import annotations

import pytest

from deploy.bench import dynamodb as bench_dynamodb


@pytest.mark.dynamodb_local
def test_a_chapter_write_costs_the_same_whatever_the_description(dynamodb_local, tmp_path):
    measured = bench_dynamodb.measure(dynamodb_local)
    big, empty = measured["5,000 characters"], measured["empty"]
    for call in ("chapter create", "chapter renumber", "chapter title edit", "chapter delete"):
        assert big[call][0] == empty[call][0], call
    assert big["chapter create"][0] <= bench_dynamodb.GOAL_CREATE_WCU
    # The description is paid where the book itself is written.
    assert big["book create"][0] > empty["book create"][0]


def test_the_section_replaces_its_old_self(tmp_path, monkeypatch):
    doc = tmp_path / "performance.md"
    begin, end = bench_dynamodb.BEGIN, bench_dynamodb.END
    doc.write_text(f"# Performance\n\nbefore\n\n{begin}\nold\n{end}\nafter\n")
    monkeypatch.setattr(bench_dynamodb, "PERFORMANCE", doc)
    bench_dynamodb.update_performance_doc(f"{begin}\nnew\n{end}")
    assert doc.read_text() == f"# Performance\n\nbefore\n\n{begin}\nnew\n{end}\nafter\n"
