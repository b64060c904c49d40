"""The progress answer's hand-built output is exactly what its documented serializer gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from listening.domain import Position, Progress, ProgressWrite
from listening.serializers import ProgressWriteOut, progress_write_data


def _at(number: int, seconds: float, when: datetime, device: str = "phone") -> Position:
    return Position(
        chapter_id=f"00000000-0000-4000-8000-{number:012d}",
        chapter_number=number,
        position_seconds=seconds,
        updated_at=when,
        device=device,
    )


@pytest.mark.parametrize(
    "write",
    [
        ProgressWrite(
            Progress(
                user_id=1,
                book_id="b",
                latest=_at(1, 0, datetime(2026, 1, 1, tzinfo=UTC)),
                furthest=_at(1, 0, datetime(2026, 1, 1, tzinfo=UTC)),
            ),
            applied=True,
        ),
        ProgressWrite(
            Progress(
                user_id=2,
                book_id="c",
                latest=_at(3, 12.5, datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=UTC), "𝄞"),
                furthest=_at(
                    10,
                    3599.999,
                    datetime(2026, 1, 1, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=9))),
                ),
                finished=True,
            ),
            applied=False,
        ),
    ],
)
def test_progress_write_data_is_the_serializer_s_output(write):
    progress = write.progress
    documented = ProgressWriteOut(
        {
            "book_id": progress.book_id,
            "latest": progress.latest,
            "furthest": progress.furthest,
            "finished": progress.finished,
            "applied": write.applied,
        }
    ).data
    assert progress_write_data(write) == documented
