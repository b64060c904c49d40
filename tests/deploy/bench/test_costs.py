"""The cost model's arithmetic (deploy/bench/costs.py), checked by hand on round figures."""

from __future__ import annotations

import pytest

from deploy.bench import api_units, cost_report, costs
from deploy.bench.costs import PRICES, Call, Usage

USAGE = Usage(
    sync_seconds=20,
    chapter_minutes=30,
    chunk_bytes=1_000_000,
    origin_miss_ratio=0.5,
    dynamodb_round_trip_seconds=0.004,
)


def test_every_price_names_its_page_and_is_positive():
    for name, price in PRICES.items():
        assert price.usd > 0, name
        assert price.source.startswith("https://aws.amazon.com/"), name
    assert costs.REGION == "ap-northeast-2"
    assert costs.TAKEN == "2026-12-02"


def test_billed_duration_scales_own_time_to_1_gb_and_adds_round_trips():
    call = Call(own_seconds=0.002, dynamodb_requests=3, write_units=0, read_units=0)
    # 2 ms of one core is 2 * 1769 / 1024 = 3.455 ms at 1 GB; three 4 ms round trips; ceil.
    assert costs.billed_ms(call, USAGE) == 16
    exact = Call(own_seconds=0.004 * 1024 / 1769, dynamodb_requests=0, write_units=0, read_units=0)
    assert costs.billed_ms(exact, USAGE) == 4  # an exact millisecond is not rounded up


def test_one_api_call_by_service():
    call = Call(own_seconds=0.0, dynamodb_requests=1, write_units=1, read_units=3.5)
    usd = costs.api_call(call, USAGE)
    assert usd["API Gateway"] == pytest.approx(1.29e-6)
    # 4 ms at 1 GB and the request.
    assert usd["Lambda"] == pytest.approx(0.2e-6 + 0.004 * 0.0000166667)
    assert usd["DynamoDB"] == pytest.approx(0.6778e-6 + 3.5 * 0.1356e-6)
    rest = costs.api_call(call, USAGE, gateway="rest_api_request")
    assert rest["API Gateway"] == pytest.approx(3.74e-6)


def test_a_listening_hour():
    stream = Call(own_seconds=0.0, dynamodb_requests=0, write_units=0, read_units=2)
    progress = Call(own_seconds=0.0, dynamodb_requests=0, write_units=1, read_units=1)
    hour = costs.listening_hour(stream, progress, 64_000, USAGE)
    assert (hour.progress_writes, hour.stream_urls) == (180, 2)
    assert hour.bytes == 28_800_000  # 64 kbit/s for an hour
    assert hour.range_requests == 29  # 28.8 MB in 1 MB ranges, the last one short
    lambda_each = 0.2e-6 + 0.001 * 0.0000166667  # 0 ms bills Lambda's 1 ms minimum
    assert hour.usd["API Gateway"] == pytest.approx(182 * 1.29e-6)
    assert hour.usd["Lambda"] == pytest.approx(182 * lambda_each)
    assert hour.usd["DynamoDB"] == pytest.approx(180 * (0.6778e-6 + 0.1356e-6) + 2 * 2 * 0.1356e-6)
    assert hour.usd["CloudFront"] == pytest.approx(0.0288 * 0.120 + 29 * 0.012 / 1e4)
    assert hour.usd["S3"] == pytest.approx(29 * 0.5 * 0.00035 / 1e3)
    assert hour.api_usd == pytest.approx(
        hour.usd["API Gateway"] + hour.usd["Lambda"] + hour.usd["DynamoDB"]
    )
    assert hour.delivery_usd == pytest.approx(hour.usd["CloudFront"] + hour.usd["S3"])


def test_an_upload():
    create = Call(own_seconds=0.0, dynamodb_requests=0, write_units=10, read_units=5)
    complete = Call(own_seconds=0.0, dynamodb_requests=0, write_units=4, read_units=5)
    usage = Usage(completion_gets=3, upload_call_seconds=(0.05, 0.5))
    usd = costs.upload(create, complete, usage)
    assert usd["API Gateway"] == pytest.approx(2 * 1.29e-6)
    assert usd["Lambda"] == pytest.approx(2 * 0.2e-6 + 0.55 * 0.0000166667)
    assert usd["DynamoDB"] == pytest.approx(14 * 0.6778e-6 + 10 * 0.1356e-6)
    assert usd["S3"] == pytest.approx(2 * 0.0045e-3 + 4 * 0.00035e-3)


def test_keep_warm_against_snapstart():
    # 30 days of an invocation every 4 minutes: 10,800 requests of 1 ms at 1 GB.
    assert costs.keep_warm_month(Usage(keep_warm_seconds=0.001)) == pytest.approx(
        10_800 * (0.2e-6 + 0.001 * 0.0000166667)
    )
    # One version cached 30 days at 1 GB, and 100 restores of 1 GB.
    assert costs.snapstart_month(1, 100) == pytest.approx(
        2_592_000 * 0.0000015046 + 100 * 0.0001397998
    )


def test_the_report_renders_the_goal_from_the_figures():
    figures = {
        api_units.STREAM_URL: (0.0, 5.0, 3),
        api_units.PROGRESS: (1.0, 7.5, 4),
        api_units.UPLOAD_CREATE: (10.0, 5.0, 3),
        api_units.UPLOAD_COMPLETE: (4.0, 5.0, 3),
    }
    bitrate = api_units.Bitrate("tests/fixtures/chapter-40s.m4a", 40.0, 85_000)
    fields = cost_report.section(figures, [0.002] * 3, [0.003] * 3, bitrate)
    assert set(fields) == {
        "cost_prices",
        "cost_inputs",
        "cost_hours",
        "cost_goal",
        "cost_uploads",
        "cost_warm",
    }
    assert "| 64.0 | 15 s | HTTP |" in fields["cost_hours"]
    assert "17.0 kbit/s" in fields["cost_inputs"]
    goal_rows = fields["cost_goal"].splitlines()
    assert [row.endswith(("| met |", "| NOT met |")) for row in goal_rows[:2]] == [True, True]
    priced = cost_report.calls(figures, [0.002] * 3, [0.003] * 3)
    sync = cost_report.sync_for_goal(priced, costs.Usage())
    assert f"**{sync} s**" in goal_rows[2]
    assert cost_report.api_share(priced, costs.Usage(), sync) < cost_report.API_SHARE_GOAL
    assert cost_report.api_share(priced, costs.Usage(), sync - 1) >= cost_report.API_SHARE_GOAL


def test_the_fixture_bitrate_is_read_by_mutagen():
    measured = api_units.bitrate()
    assert measured.seconds == pytest.approx(40.05, abs=0.05)
    assert 10_000 < measured.bits_per_second < 64_000
