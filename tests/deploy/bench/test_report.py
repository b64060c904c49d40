"""docs/performance.md is a rendering of its template, so `make bench BENCH_FLAGS=--write`
rewrites the figures and keeps every hand-written section."""

from __future__ import annotations

from pathlib import Path

from deploy.bench import report
from deploy.bench.api_units import Bitrate
from deploy.bench.cost_report import section as cost_section
from deploy.bench.latency import Latency

ROOT = Path(__file__).resolve().parents[3]


def latency() -> Latency:
    return Latency(
        voj_cold=[0.48, 0.49],
        stream_cold=[0.56, 0.57],
        hello_cold=[0.46, 0.47],
        voj_warm=[0.012, 0.011],
        voj_own=[0.0019, 0.0018],
        voj_own_cpu=[0.0019, 0.0018],
        progress_own=[0.0027, 0.0026],
        progress_own_cpu=[0.0026, 0.0025],
        hello_warm=[0.0003, 0.0002],
        voj_collection=0.0009,
        hello_collection=0.334,
    )


def cost_model() -> dict[str, str]:
    figures = {
        "stream-url": (0.0, 5.0, 3),
        "progress write": (1.0, 7.5, 4),
        "chapter upload: create": (10.0, 5.0, 3),
        "chapter upload: complete": (4.0, 5.0, 3),
    }
    bitrate = Bitrate("tests/fixtures/chapter-40s.m4a", 40.0, 85_000)
    return cost_section(figures, [0.0019, 0.0018], [0.0026, 0.0025], bitrate)


def test_the_page_is_the_template_filled_in():
    """A section written into the page by hand, and not into the template, fails here: the
    next --write would drop it."""
    page = (ROOT / "docs" / "performance.md").read_text()
    assert report.template_pattern().fullmatch(page)


def test_a_rewrite_keeps_the_hand_measured_sections():
    rendered = report.render(
        latency(),
        machine="2 cores, a CPU; load average 1.0",
        dynamodb_costs="<!-- dynamodb-costs -->\nunits\n<!-- /dynamodb-costs -->",
        operator_database="<!-- bench_opsdb: begin -->\nfile\n<!-- bench_opsdb: end -->\n",
        snapstart="| after-restore hooks | 15 | 4.0 ms |",
        cost_model=cost_model(),
    )
    assert "${" not in rendered
    assert report.template_pattern().fullmatch(rendered)
    assert "## Login: a known and an unknown username cost the same" in rendered
    assert "| without the account-change read (token checked alone) | 1.73 ms |" in rendered
    assert "| warm stream-url, voj's own time (median) | **1.9 ms** | ≤ 2 ms | met |" in rendered
    assert "| first stream-url cold start / hello world | **1.22x** | ≤ 1.3x | met |" in rendered
    assert (
        "| warm progress write, voj's own time (median) | **2.6 ms** | ≤ 3 ms | met |" in rendered
    )
    assert "| warm, voj progress write, AWS answering at zero latency | 2 | 2.6 ms |" in rendered
    assert rendered.endswith("<!-- bench_opsdb: end -->\n")
    assert "## What a listening hour costs" in rendered
    assert "| 64.0 | 30 s | REST |" in rendered
