"""SnapStart: restore to the first response, and the price of each lazy import.

    python -m deploy.bench --only restore [dist/voj-prod.zip]

A process of the packaged handler is initialised as Lambda initialises a SnapStart version
(imports, settings, the before-snapshot hooks) and forked: each child is one environment
restored from that snapshot (deploy/local/restore_harness.py). It runs the after-restore hooks
and answers one authenticated request; the time from the start of the hooks to that answer is
its restore-to-first-response. AWS answers at zero latency (the harness replays moto's answers,
as the warm bench does), so the figure is voj's own time; it is compared with today's cold
start of the same request (process start to first response, AWS on moto over loopback).

The lazy imports are priced in children forked from an initialised process before its hooks
run, each child importing one module (or building one thing) alone: what that import would add
to the first request that needs it, were it not done before the snapshot.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from deploy.bench.latency import BenchBook, cold_start, ms, prepare_aws, progress_events
from deploy.local.lambda_harness import api_gateway_event, runtime_dir, unpack
from deploy.local.restore_harness import initialised, restore

RESTORES = 15  # children of one snapshot, per request measured
COLD_STARTS = 5
GOAL_SECONDS = 0.030

# (what is measured, the statement a child runs, who needs it in production, decision)
LAZY = (
    (
        "the catalogue's DynamoDB backend and its client",
        "from books.repository import get_repository; get_repository()",
        "every catalogue and stream request",
        "built before the snapshot; lazy in code (the SQL backend needs none of it)",
    ),
    (
        "the listeners' DynamoDB backend",
        "from listening.repository import get_listening_repository; get_listening_repository()",
        "every progress and bookmark request",
        "built before the snapshot; lazy in code",
    ),
    (
        "the S3 store: django-storages, its client, the presigner",
        "from streaming.stores import get_object_store; from datetime import datetime, UTC;"
        " get_object_store().stream_url(key='k', expires_at=datetime.now(UTC), base_url='')",
        "every stream-url, upload grant and cover",
        "built before the snapshot; lazy in code (the local store needs none of it)",
    ),
    (
        "simplejwt's token backend (PyJWT, cryptography)",
        "import rest_framework_simplejwt.state",
        "every authenticated request",
        "imported before the snapshot (simplejwt imports it on first use)",
    ),
    (
        "the media checks (streaming.checks, mutagen)",
        "import streaming.checks, streaming.media, mutagen.mp4",
        "upload completion and the console's check only",
        "imported before the snapshot: a restored container never pays it",
    ),
    (
        "Pillow (cover checks)",
        "import PIL.Image, PIL.ImageCms",
        "cover uploads only",
        "imported before the snapshot: a restored container never pays it",
    ),
    (
        "Django's migration executor",
        "import django.db.migrations.executor",
        "the migrations check (login, /health/detailed)",
        "imported before the snapshot",
    ),
    (
        "the local Range parser (streaming.ranges)",
        "import streaming.ranges",
        "the local store only, never production",
        "stays lazy, not imported on Lambda",
    ),
    (
        "the SQL backends",
        "import books.repository.sql, listening.repository.sql",
        "the embedded default only, never production",
        "stays lazy, not imported on Lambda",
    ),
)

_PRICES = r"""
import json, os, sys, time
plan = json.loads(sys.stdin.read())
import handler

prices = []
for statement in plan:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        began, cpu = time.perf_counter(), time.process_time()
        exec(statement)
        spent = [time.perf_counter() - began, time.process_time() - cpu]
        os.write(write, json.dumps(spent).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as source:
        prices.append(json.loads(source.read() or "null"))
    os.waitpid(pid, 0)
print("HARNESS" + json.dumps(prices))
"""


@dataclass(frozen=True)
class Restored:
    """Seconds: per restored child, its after-restore hooks and its first answer since the
    hooks began (wall and CPU), for each request; the cold starts of stream-url; the price of
    each lazy import (wall, CPU) in LAZY's order."""

    hooks: list[float]
    stream: list[float]
    stream_cpu: list[float]
    progress: list[float]
    progress_cpu: list[float]
    stream_loopback: list[float]
    stream_cold: list[float]
    initialisation: float
    before_snapshot: float
    prices: list[tuple[float, float]]


def _first_answers(result: dict) -> tuple[list[float], list[float], list[float]]:
    children = result["children"]
    for child in children:
        answer = child["answers"][0]
        assert answer["status"] == 200, answer
        assert answer["aws_requests_sent"] == 0, f"{answer} went over the wire while replaying"
    return (
        [child["after_restore"] for child in children],
        [child["answers"][0]["since_restore"] for child in children],
        [child["answers"][0]["cpu_since_restore"] for child in children],
    )


def measure_on(zip_path: Path, endpoint: str, work: Path) -> Restored:
    """The package unpacked into ``work``, AWS prepared at ``endpoint``, then measured."""
    task = unpack(zip_path, work / "voj-task")
    runtime = runtime_dir(work / "runtime")
    env, token, book = prepare_aws(endpoint, work)
    return measure(task, runtime, env, book, token)


def measure(
    task: Path, runtime: Path, env: dict[str, str], book: BenchBook, token: str
) -> Restored:
    stream = api_gateway_event(
        f"/api/v1/books/{book.book_id}/chapters/{book.stream_chapter_id}/stream-url",
        headers={"Authorization": f"Bearer {token}"},
    )
    # A real write: each child gets the answer moto gave the recording child's.
    progress = progress_events(book, token, 1)[0]
    streamed = restore(task, runtime, [stream], env, children=RESTORES, replay=True)
    hooks, stream_times, stream_cpu = _first_answers(streamed)
    reported = restore(task, runtime, [progress], env, children=RESTORES, replay=True)
    _, progress_times, progress_cpu = _first_answers(reported)
    loopback = restore(task, runtime, [stream], env, children=COLD_STARTS)
    _, stream_loopback, _ = _first_answers(loopback)
    cold = [cold_start(task, runtime, env, stream) for _ in range(COLD_STARTS)]
    prices = initialised(task, runtime, _PRICES, [entry[1] for entry in LAZY], env)
    return Restored(
        hooks=hooks,
        stream=stream_times,
        stream_cpu=stream_cpu,
        progress=progress_times,
        progress_cpu=progress_cpu,
        stream_loopback=stream_loopback,
        stream_cold=cold,
        initialisation=streamed["initialised"],
        before_snapshot=streamed["before_snapshot"],
        prices=[tuple(price) for price in prices],
    )


def _row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {ms(statistics.median(values))} | {ms(min(values))} | "
        f"{ms(max(values))} |"
    )


def section(measured: Restored) -> str:
    """The restore figures and the price of each lazy import, as Markdown tables."""
    rows = [
        ("after-restore hooks", measured.hooks),
        ("restore to first stream-url, AWS at zero latency", measured.stream),
        ("restore to first stream-url, zero latency, CPU time", measured.stream_cpu),
        ("restore to first progress write, AWS at zero latency", measured.progress),
        ("restore to first progress write, zero latency, CPU time", measured.progress_cpu),
        ("restore to first stream-url, AWS = moto over loopback", measured.stream_loopback),
        ("cold start to first stream-url (today), moto over loopback", measured.stream_cold),
    ]
    own = max(statistics.median(measured.stream), statistics.median(measured.progress))
    met = "met" if own <= GOAL_SECONDS else "NOT met"
    goal = (
        "| restore to first response, voj's own time (median, the slower request) | "
        f"**{ms(own)}** | ≤ {GOAL_SECONDS * 1000:g} ms | {met} |"
    )
    prices = "\n".join(
        f"| {name} | {ms(wall)} | {ms(cpu)} | {needed} | {decision} |"
        for (name, _, needed, decision), (wall, cpu) in zip(LAZY, measured.prices, strict=True)
    )
    return (
        "| measurement | runs | median | min | max |\n| --- | --- | --- | --- | --- |\n"
        + "\n".join(_row(name, values) for name, values in rows)
        + f"\n\nInitialisation (process start to the hooks) {ms(measured.initialisation)}, "
        f"before-snapshot hooks {ms(measured.before_snapshot)}, in one run.\n\n"
        "| goal | value | target | |\n| --- | --- | --- | --- |\n"
        + goal
        + "\n\n| lazy import, alone in a child of the initialised process | wall | CPU | "
        "needed by | decision |\n| --- | --- | --- | --- | --- |\n" + prices + "\n"
    )
