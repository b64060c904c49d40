"""The benchmark's figures as Markdown, and docs/performance.md rendered from its template.

The template (performance.md.template, beside this file) holds every word of the page that a
run does not measure, the hand-measured sections included, so `make bench BENCH_FLAGS=--write`
rewrites the figures and keeps the rest. Its ``${name}`` fields are filled by render().
"""

from __future__ import annotations

import os
import re
import statistics
from datetime import UTC, datetime
from pathlib import Path
from string import Template

from deploy.bench.latency import COLD_RUNS, WARM_REQUESTS, Latency, Own, ms

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).with_name("performance.md.template")
PERFORMANCE = ROOT / "docs" / "performance.md"
COLD_START_GOAL = 1.3  # voj's cold start over the hello world's
WARM_GOAL_SECONDS = 0.002  # voj's own time per warm stream-url
PROGRESS_GOAL_SECONDS = 0.003  # voj's own time per warm progress write


def load(before: float) -> str:
    """The machine's load during the run: other work slows both sides of every comparison."""
    return (
        f"load average {before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
        f"on {os.cpu_count()} cores"
    )


def measurements(latency: Latency) -> str:
    """One row per measurement: runs, median, min and max."""
    rows = [
        ("cold start, voj: first GET /api/v1/health", latency.voj_cold),
        (
            "cold start, voj: first GET .../chapters/{id}/stream-url",
            latency.stream_cold,
        ),
        ("cold start, Django + DRF hello world", latency.hello_cold),
        ("warm, voj stream-url, AWS = moto over loopback", latency.voj_warm),
        ("warm, voj stream-url, AWS answering at zero latency", latency.voj_own),
        ("warm, voj stream-url, zero latency, CPU time of the process", latency.voj_own_cpu),
        ("warm, voj progress write, AWS answering at zero latency", latency.progress_own),
        (
            "warm, voj progress write, zero latency, CPU time of the process",
            latency.progress_own_cpu,
        ),
        ("warm, DRF hello-world view", latency.hello_warm),
    ]
    return "\n".join(
        f"| {name} | {len(values)} | {ms(statistics.median(values))} | {ms(min(values))} | "
        f"{ms(max(values))} |"
        for name, values in rows
    )


def goals(latency: Latency) -> str:
    """The goals, each with this run's value and whether it is met."""
    median = statistics.median
    stream_ratio = median(latency.stream_cold) / median(latency.hello_cold)
    cold_ratio = median(latency.voj_cold) / median(latency.hello_cold)
    own = median(latency.voj_own)
    progress = median(latency.progress_own)
    return "\n".join(
        f"| {name} | **{value}** | {goal} | {'met' if met else 'NOT met'} |"
        for name, value, goal, met in [
            (
                "first stream-url cold start / hello world",
                f"{stream_ratio:.2f}x",
                f"≤ {COLD_START_GOAL}x",
                stream_ratio <= COLD_START_GOAL,
            ),
            (
                "health cold start / hello world",
                f"{cold_ratio:.2f}x",
                f"≤ {COLD_START_GOAL}x",
                cold_ratio <= COLD_START_GOAL,
            ),
            (
                "warm stream-url, voj's own time (median)",
                ms(own),
                f"≤ {WARM_GOAL_SECONDS * 1000:g} ms",
                own <= WARM_GOAL_SECONDS,
            ),
            (
                "warm progress write, voj's own time (median)",
                ms(progress),
                f"≤ {PROGRESS_GOAL_SECONDS * 1000:g} ms",
                progress <= PROGRESS_GOAL_SECONDS,
            ),
        ]
    )


def collections(latency: Latency) -> str:
    return (
        f"| full garbage collection after the warm requests | {ms(latency.voj_collection)} | "
        f"{ms(latency.hello_collection)} |"
    )


def summary(latency: Latency, machine: str) -> str:
    """What a run prints: the machine, the measurements and the goals."""
    return (
        f"{machine}\n\n| measurement | runs | median | min | max |\n"
        f"| --- | --- | --- | --- | --- |\n{measurements(latency)}\n\n"
        f"| goal | value | target | |\n| --- | --- | --- | --- |\n{goals(latency)}\n"
    )


def own_summary(own: Own, load_line: str) -> str:
    """What `python -m deploy.bench --warm` prints: voj's own times, wall clock and CPU."""
    rows = [
        ("warm stream-url, wall clock", own.stream, WARM_GOAL_SECONDS),
        ("warm stream-url, CPU time", own.stream_cpu, WARM_GOAL_SECONDS),
        ("warm progress write, wall clock", own.progress, PROGRESS_GOAL_SECONDS),
        ("warm progress write, CPU time", own.progress_cpu, PROGRESS_GOAL_SECONDS),
    ]
    lines = [
        f"| {name} | {len(values)} | {ms(statistics.median(values))} | {ms(min(values))} | "
        f"{ms(max(values))} | ≤ {goal * 1000:g} ms |"
        for name, values, goal in rows
    ]
    header = "| voj's own time, AWS at zero latency | runs | median | min | max | goal |"
    return "\n".join([load_line, "", header, "| --- | --- | --- | --- | --- | --- |", *lines])


def render(
    latency: Latency,
    *,
    machine: str,
    dynamodb_costs: str,
    operator_database: str,
    snapstart: str,
    cost_model: dict[str, str],
) -> str:
    """docs/performance.md: the template with this run's figures (``cost_model``: the fields
    of deploy/bench/cost_report.py)."""
    return Template(TEMPLATE.read_text()).substitute(
        **cost_model,
        date=f"{datetime.now(UTC):%Y-%m-%d}",
        machine=machine,
        measurements=measurements(latency),
        goals=goals(latency),
        collections=collections(latency),
        cold_runs=COLD_RUNS,
        warm_requests=WARM_REQUESTS,
        dynamodb_costs=dynamodb_costs.strip("\n"),
        operator_database=operator_database.strip("\n"),
        snapstart=snapstart.strip("\n"),
    )


def template_pattern() -> re.Pattern[str]:
    """A pattern that matches any rendering of the template: its fields as wildcards."""
    parts = re.split(r"\$\{(\w+)\}", TEMPLATE.read_text())
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else ".+?" for index, part in enumerate(parts)
    )
    return re.compile(pattern, re.S)
