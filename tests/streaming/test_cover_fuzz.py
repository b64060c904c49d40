"""The cover check under mutated files (tests/cover_fuzz.py): a seeded sample of a thousand on
every run; the long run's count and result are in docs/testing.md."""

from __future__ import annotations

import tracemalloc

import pytest

from tests.cover_fuzz import MEMORY_BOUND, METADATA_BYTES, outcome, run, seeds, with_metadata

pytestmark = [
    pytest.mark.fuzz,
    # Pillow warns about every damaged EXIF it skips: expected here by the hundred.
    pytest.mark.filterwarnings("ignore::UserWarning"),
]
CASES = 1000


def test_every_seed_is_a_valid_cover():
    """The mutations start from files the check accepts: what they break is the mutation's."""
    assert {outcome(data) for data in seeds()} == {"accepted"}


def test_mutated_covers_are_made_or_refused_never_a_crash():
    outcomes, failures, peak = run(seed=20261202, count=CASES)
    assert failures == []
    assert peak < MEMORY_BOUND
    # The sample reaches every answer the check has, not only its first refusal.
    assert set(outcomes) == {"accepted", "corrupt", "not_an_image", "too_large", "too_small"}
    assert sum(outcomes.values()) == CASES


@pytest.mark.parametrize("kind", ["text", "itxt", "ztxt", "exif", "icc", "xmp", "comment"])
def test_four_megabytes_of_metadata_cost_a_bounded_memory(kind):
    """PNG text, iTXt, a zTXt zlib bomb, EXIF, ICC, XMP and JPEG COM segments of 4 MB in each
    format: made into a cover without them, or refused, with Python's peak under the bound."""
    was_tracing = tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        for data in seeds():
            tracemalloc.reset_peak()
            assert outcome(with_metadata(data, kind, b"A" * METADATA_BYTES)) in {
                "accepted",
                "corrupt",
            }
            assert tracemalloc.get_traced_memory()[1] < 64 * 1024 * 1024
    finally:
        if not was_tracing:
            tracemalloc.stop()
