"""The restore bench's page section: every measurement, the goal, and a decision per lazy import."""

from __future__ import annotations

from deploy.bench import restore


def test_the_section_gives_the_goal_and_a_decision_for_each_lazy_import():
    measured = restore.Restored(
        hooks=[0.004, 0.005],
        stream=[0.020, 0.024],
        stream_cpu=[0.018, 0.019],
        progress=[0.031, 0.033],
        progress_cpu=[0.020, 0.021],
        stream_loopback=[0.030],
        stream_cold=[0.460],
        initialisation=0.9,
        before_snapshot=0.2,
        prices=[(0.01, 0.008)] * len(restore.LAZY),
    )
    page = restore.section(measured)
    assert "| restore to first stream-url, AWS at zero latency | 2 | 22.0 ms |" in page
    # The slower of the two requests decides.
    assert "| **32.0 ms** | ≤ 30 ms | NOT met |" in page
    for name, _, needed, decision in restore.LAZY:
        assert f"| {name} | 10.0 ms | 8.0 ms | {needed} | {decision} |" in page
