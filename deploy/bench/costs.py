"""What a listening hour and an uploaded chapter cost on AWS, from the bench's measured units.

Every price is a constant of PRICES below, with its page and the date it was taken; every
quantity is either measured by the bench (voj's own time per warm request, the DynamoDB units
of each API call, the chapters' bitrate: deploy/bench/latency.py and api_units.py) or a named
parameter of Usage with its reason. The tables in docs/performance.md are rendered from them
(``make bench``); tests/deploy/bench/test_costs.py checks the arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple

TAKEN = "2026-12-02"
REGION = "ap-northeast-2"


class Price(NamedTuple):
    usd: float  # per unit
    unit: str
    source: str


_LAMBDA = "https://aws.amazon.com/lambda/pricing/"
_APIGW = "https://aws.amazon.com/api-gateway/pricing/"
_DDB = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
_CF = "https://aws.amazon.com/cloudfront/pricing/"
_S3 = "https://aws.amazon.com/s3/pricing/"

# List prices for Asia Pacific (Seoul), ap-northeast-2, first tier, without the free tier; for
# CloudFront, delivery to viewers in South Korea (its "Asia Pacific" price region). Taken from
# the pages named, as published on TAKEN (the project's record; this bench has no network and
# does not fetch them: check the pages before using the figures for a budget).
PRICES: dict[str, Price] = {
    "lambda_gb_second": Price(0.0000166667, "GB-second, x86", _LAMBDA),
    "lambda_request": Price(0.20 / 1e6, "request", _LAMBDA),
    "snapstart_cache_gb_second": Price(0.0000015046, "GB-second of a cached version", _LAMBDA),
    "snapstart_restore_gb": Price(0.0001397998, "GB restored", _LAMBDA),
    "http_api_request": Price(1.29 / 1e6, "request (HTTP API, first 300 million)", _APIGW),
    "rest_api_request": Price(3.74 / 1e6, "request (REST API, first 333 million)", _APIGW),
    "dynamodb_write_unit": Price(0.6778 / 1e6, "write request unit, on demand", _DDB),
    "dynamodb_read_unit": Price(0.1356 / 1e6, "read request unit, on demand", _DDB),
    "cloudfront_gb": Price(0.120, "GB to viewers in South Korea, first 10 TB", _CF),
    "cloudfront_https_request": Price(0.0120 / 1e4, "HTTPS request", _CF),
    "s3_put_request": Price(0.0045 / 1e3, "PUT, COPY, POST request, Standard", _S3),
    "s3_get_request": Price(0.00035 / 1e3, "GET, HEAD request, Standard", _S3),
}

MEMORY_GB = 1024 / 1024  # zappa_settings.json: memory_size 1024
# Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB (Lambda's
# documentation): at 1 GB voj's own time is the bench's CPU time on one core times this.
LAMBDA_CPU_SLOWDOWN = 1769 / 1024
SECONDS_PER_MONTH = 30 * 24 * 3600
KEEP_WARM_SECONDS = 4 * 60  # zappa_settings.json: keep_warm_expression rate(4 minutes)
GIB = 1024**3


@dataclass(frozen=True)
class Call:
    """One API call as measured: voj's own CPU time (AWS at zero latency), its DynamoDB
    requests, and their write and read units."""

    own_seconds: float
    dynamodb_requests: int
    write_units: float
    read_units: float


@dataclass(frozen=True)
class Usage:
    """The parameters that are not measured here, each with its reason."""

    sync_seconds: float = 30.0  # a playing device reports progress every 30 s (listen.js)
    # One stream-url per chapter started (its URL outlives the chapter: VOJ_STREAM_URL_*).
    chapter_minutes: float = 30.0
    # The browser's audio element asks for ranges as it buffers; its size is the browser's
    # choice. 256 KiB is on the small side, so the request count is on the high side.
    chunk_bytes: int = 256 * 1024
    # Every range a miss at CloudFront, fetched from S3: the upper bound of S3's share.
    origin_miss_ratio: float = 1.0
    # Not measurable without AWS: an in-region DynamoDB request's round trip, which Lambda
    # bills while voj waits for it.
    dynamodb_round_trip_seconds: float = 0.005
    # Keep-warm's ping (Zappa answers it without Django's request path): billed at Lambda's
    # 1 ms minimum.
    keep_warm_seconds: float = 0.001
    # S3 requests of one upload's completion: the HEAD, the MP4 walker's range GETs (64 KiB
    # read-ahead; a faststart file's boxes are at its start), the copy to media/.
    completion_gets: int = 4
    # Lambda time of an upload's create and completion calls: their own time is not in the
    # bench (the completion reads ranges and copies the object through S3); a generous figure.
    upload_call_seconds: tuple[float, float] = (0.05, 0.5)


def billed_ms(call: Call, usage: Usage) -> int:
    """Lambda's billed duration of one call: voj's own time on a 1 GB share of a core and the
    DynamoDB round trips it waits for, rounded up to the millisecond (1 ms at least)."""
    seconds = (
        call.own_seconds * LAMBDA_CPU_SLOWDOWN
        + call.dynamodb_requests * usage.dynamodb_round_trip_seconds
    )
    return max(1, math.ceil(round(seconds * 1000, 6)))


def lambda_request(seconds_billed: float) -> float:
    """One invocation at the configured memory: its request and its GB-seconds."""
    return (
        PRICES["lambda_request"].usd + seconds_billed * MEMORY_GB * PRICES["lambda_gb_second"].usd
    )


def api_call(call: Call, usage: Usage, *, gateway: str = "http_api_request") -> dict[str, float]:
    """USD of one API call by service."""
    return {
        "API Gateway": PRICES[gateway].usd,
        "Lambda": lambda_request(billed_ms(call, usage) / 1000),
        "DynamoDB": call.write_units * PRICES["dynamodb_write_unit"].usd
        + call.read_units * PRICES["dynamodb_read_unit"].usd,
    }


@dataclass(frozen=True)
class Hour:
    """One listening hour: its requests by kind and its USD by service."""

    progress_writes: float
    stream_urls: float
    range_requests: float
    bytes: float
    usd: dict[str, float] = field(default_factory=dict)

    @property
    def api_usd(self) -> float:
        return sum(self.usd[name] for name in ("API Gateway", "Lambda", "DynamoDB"))

    @property
    def delivery_usd(self) -> float:
        return sum(self.usd[name] for name in ("CloudFront", "S3"))


def listening_hour(
    stream: Call,
    progress: Call,
    bits_per_second: float,
    usage: Usage,
    *,
    gateway: str = "http_api_request",
) -> Hour:
    """What one hour of listening at ``bits_per_second`` costs."""
    writes = 3600 / usage.sync_seconds
    urls = 60 / usage.chapter_minutes
    delivered = bits_per_second * 3600 / 8
    ranges = math.ceil(delivered / usage.chunk_bytes)
    usd = {"API Gateway": 0.0, "Lambda": 0.0, "DynamoDB": 0.0}
    for call, count in ((progress, writes), (stream, urls)):
        for service, each in api_call(call, usage, gateway=gateway).items():
            usd[service] += each * count
    usd["CloudFront"] = (
        delivered / 1e9 * PRICES["cloudfront_gb"].usd
        + ranges * PRICES["cloudfront_https_request"].usd
    )
    usd["S3"] = ranges * usage.origin_miss_ratio * PRICES["s3_get_request"].usd
    return Hour(writes, urls, ranges, delivered, usd)


def upload(create: Call, complete: Call, usage: Usage) -> dict[str, float]:
    """USD of one chapter's upload: the create call (with its grant), the browser's POST to
    S3, the completion call and its S3 requests (the DELETE of the upload is free)."""
    usd = {"API Gateway": 2 * PRICES["http_api_request"].usd, "Lambda": 0.0, "DynamoDB": 0.0}
    for call, seconds in zip((create, complete), usage.upload_call_seconds, strict=True):
        timed = replace(call, own_seconds=seconds / LAMBDA_CPU_SLOWDOWN)
        for service in ("Lambda", "DynamoDB"):
            usd[service] += api_call(timed, usage)[service]
    usd["S3"] = (
        2 * PRICES["s3_put_request"].usd  # the browser's POST, the completion's copy
        + (1 + usage.completion_gets) * PRICES["s3_get_request"].usd  # HEAD, range GETs
    )
    return usd


def keep_warm_month(usage: Usage) -> float:
    """keep_warm: one invocation every four minutes, all month."""
    return SECONDS_PER_MONTH / KEEP_WARM_SECONDS * lambda_request(usage.keep_warm_seconds)


def snapstart_month(versions: int, restores: int) -> float:
    """SnapStart: each published version's snapshot cached all month at the function's
    memory, and each restore (a new execution environment) charged per GB restored."""
    cache = versions * MEMORY_GB * SECONDS_PER_MONTH * PRICES["snapstart_cache_gb_second"].usd
    return cache + restores * MEMORY_GB * PRICES["snapstart_restore_gb"].usd
