"""The cost model's section of docs/performance.md, from measured units (deploy/bench/costs.py):
`make bench` renders these fields into the template."""

from __future__ import annotations

import statistics
from dataclasses import replace

from deploy.bench import api_units, costs
from deploy.bench.capacity import Figures
from deploy.bench.costs import PRICES, Call, Usage

SYNC_SECONDS = (15, 30)
TARGET_BITS_PER_SECOND = 64_000  # issue 22: the audio delivery itself at 64 kbit/s
API_SHARE_GOAL = 0.10  # the API side under 10% of the audio delivery
HOURS = 1000
CHAPTERS = 1000


def calls(figures: Figures, stream_cpu: list[float], progress_cpu: list[float]) -> dict[str, Call]:
    """The priced calls: the bench's CPU medians and the units measured on DynamoDB Local."""

    def call(name: str, seconds: float) -> Call:
        write, read, requests = figures[name]
        return Call(seconds, requests, write, read)

    return {
        "stream": call(api_units.STREAM_URL, statistics.median(stream_cpu)),
        "progress": call(api_units.PROGRESS, statistics.median(progress_cpu)),
        "create": call(api_units.UPLOAD_CREATE, 0.0),
        "complete": call(api_units.UPLOAD_COMPLETE, 0.0),
    }


def _usd(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def prices_table() -> str:
    rows = [
        f"| {name} | {price.usd:.10g} | {price.unit} | {price.source} |"
        for name, price in PRICES.items()
    ]
    return "\n".join(["| price | USD | per | source |", "| --- | --- | --- | --- |", *rows])


def inputs_table(priced: dict[str, Call], bitrate: api_units.Bitrate, usage: Usage) -> str:
    rows = [
        f"| {label} | {call.own_seconds * 1000:.2f} ms | {call.dynamodb_requests} | "
        f"{call.write_units:g} | {call.read_units:g} | {costs.billed_ms(call, usage)} ms |"
        for label, call in (
            ("stream-url", priced["stream"]),
            ("progress write, newer and further", priced["progress"]),
        )
    ]
    for label, key in (("chapter create", "create"), ("chapter complete", "complete")):
        call = priced[key]
        rows.append(
            f"| {label} | - | {call.dynamodb_requests} | {call.write_units:g} | "
            f"{call.read_units:g} | - |"
        )
    return "\n".join(
        [
            "| API call | voj's own CPU time (median) | DynamoDB requests | WCU | RCU | "
            "billed at 1 GB |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"The fixture `{bitrate.path}` measures {bitrate.bits_per_second / 1000:.1f} kbit/s "
            f"({bitrate.size_bytes:,} bytes over {bitrate.seconds:.2f} s, duration by mutagen).",
        ]
    )


def hours_table(priced: dict[str, Call], bitrate: api_units.Bitrate, usage: Usage) -> str:
    header = (
        "| kbit/s | sync every | API | requests/h (progress + stream-url + ranges) | "
        "API Gateway | Lambda | DynamoDB | **API side** | CloudFront | S3 | **delivery** | "
        "API / delivery |"
    )
    rows = [header, "|" + " --- |" * 12]
    for bits in (TARGET_BITS_PER_SECOND, bitrate.bits_per_second):
        for sync in SYNC_SECONDS:
            for api, gateway in (("HTTP", "http_api_request"), ("REST", "rest_api_request")):
                hour = costs.listening_hour(
                    priced["stream"],
                    priced["progress"],
                    bits,
                    replace(usage, sync_seconds=sync),
                    gateway=gateway,
                )
                share = hour.api_usd / hour.delivery_usd
                money = [_usd(hour.usd[s] * HOURS) for s in ("API Gateway", "Lambda", "DynamoDB")]
                rows.append(
                    f"| {bits / 1000:.1f} | {sync} s | {api} | "
                    f"{hour.progress_writes:g} + {hour.stream_urls:g} + {hour.range_requests:g} | "
                    f"{' | '.join(money)} | **{_usd(hour.api_usd * HOURS)}** | "
                    f"{_usd(hour.usd['CloudFront'] * HOURS)} | {_usd(hour.usd['S3'] * HOURS)} | "
                    f"**{_usd(hour.delivery_usd * HOURS)}** | {share:.1%} |"
                )
    return "\n".join(rows)


def api_share(priced: dict[str, Call], usage: Usage, sync: float) -> float:
    """The API side over the audio delivery at 64 kbit/s on the HTTP API."""
    hour = costs.listening_hour(
        priced["stream"],
        priced["progress"],
        TARGET_BITS_PER_SECOND,
        replace(usage, sync_seconds=sync),
    )
    return hour.api_usd / hour.delivery_usd


def sync_for_goal(priced: dict[str, Call], usage: Usage) -> float:
    """The shortest progress interval, in whole seconds, at which the target holds."""
    sync = 1
    while api_share(priced, usage, sync) >= API_SHARE_GOAL and sync < 3600:
        sync += 1
    return sync


def goal(priced: dict[str, Call], usage: Usage) -> str:
    """The issue's target at 64 kbit/s on the HTTP API, at each sync interval, and the
    interval it takes."""
    rows = []
    for sync in SYNC_SECONDS:
        share = api_share(priced, usage, sync)
        verdict = "met" if share < API_SHARE_GOAL else "NOT met"
        rows.append(
            f"| API side / audio delivery at 64 kbit/s, progress every {sync} s, HTTP API | "
            f"**{share:.1%}** | < {API_SHARE_GOAL:.0%} | {verdict} |"
        )
    rows.append(
        "| the shortest progress interval that meets it, the rest as measured | "
        f"**{sync_for_goal(priced, usage)} s** | | |"
    )
    return "\n".join(rows)


def uploads_table(priced: dict[str, Call], usage: Usage) -> str:
    usd = costs.upload(priced["create"], priced["complete"], usage)
    cells = " | ".join(_usd(value * CHAPTERS) for value in usd.values())
    return "\n".join(
        [
            "| " + " | ".join(usd) + " | total |",
            "|" + " --- |" * (len(usd) + 1),
            f"| {cells} | **{_usd(sum(usd.values()) * CHAPTERS)}** |",
        ]
    )


def warm_table(usage: Usage, restores: tuple[int, ...] = (100, 1000, 10000)) -> str:
    rows = [
        "| per month | USD |",
        "| --- | --- |",
        f"| keep_warm (an invocation every 4 minutes) | {_usd(costs.keep_warm_month(usage))} |",
    ]
    for versions in (1, 2):
        for count in restores:
            rows.append(
                f"| SnapStart, {versions} cached version(s), {count:,} restores | "
                f"{_usd(costs.snapstart_month(versions, count))} |"
            )
    return "\n".join(rows)


def section(
    figures: Figures,
    stream_cpu: list[float],
    progress_cpu: list[float],
    bitrate: api_units.Bitrate,
    usage: Usage | None = None,
) -> dict[str, str]:
    """The template's fields of the cost model."""
    usage = usage or Usage()
    priced = calls(figures, stream_cpu, progress_cpu)
    return {
        "cost_prices": prices_table(),
        "cost_inputs": inputs_table(priced, bitrate, usage),
        "cost_hours": hours_table(priced, bitrate, usage),
        "cost_goal": goal(priced, usage),
        "cost_uploads": uploads_table(priced, usage),
        "cost_warm": warm_table(usage),
    }
