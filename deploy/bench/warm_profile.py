"""Where voj's own time of a warm request goes: a profile and an instruction count.

    python -m deploy.bench.warm_profile [dist/voj-prod.zip] [--progress] [--callgrind]

The packaged handler answers the bench's warm stream-url (or, with --progress, its progress
write) in the Lambda harness with AWS answering at zero latency, as `make bench` measures it
(deploy/bench/latency.py). cProfile records the replayed requests only and prints the
functions with the largest cumulative share of the handler's time. --callgrind also counts the
instructions per request under valgrind's callgrind, from two runs that differ only in their
number of requests: a count, unlike a time, does not move with the load of a shared machine,
so it compares one tree with another where the wall clock cannot.
"""

from __future__ import annotations

import argparse
import pstats
import re
import shutil
import tempfile
from pathlib import Path

from deploy.bench import latency
from deploy.local.lambda_harness import invoke
from deploy.local.processes import start_moto, stop

ROOT = Path(__file__).resolve().parents[2]
PROFILED_REQUESTS = 300
CALLGRIND_REQUESTS = (10, 60)  # measured requests of the two runs; their difference is counted


def profile(warm: latency.Warm, stats_path: Path, *, progress: bool) -> pstats.Stats:
    """cProfile of PROFILED_REQUESTS replayed requests after the two the harness records."""
    events = warm.events(PROFILED_REQUESTS + 2, progress=progress)
    env = {**warm.env, "HARNESS_REPLAY_FROM": "2", "HARNESS_PROFILE": str(stats_path)}
    invoke(warm.task, warm.runtime, events, env)
    return pstats.Stats(str(stats_path))


def shares(stats: pstats.Stats, top: int = 40) -> list[tuple[float, float, str]]:
    """(cumulative share of the handler's time, own share, function), largest first."""
    entries = stats.stats  # type: ignore[attr-defined]
    handler = max(
        cumulative
        for (_, _, name), (*_, cumulative, _) in entries.items()
        if name == "lambda_handler"
    )
    rows = [
        (cumulative / handler, own / handler, f"{Path(path).name}:{line} {name}")
        for (path, line, name), (_, _, own, cumulative, _) in entries.items()
    ]
    return sorted(rows, reverse=True)[:top]


def instructions(warm: latency.Warm, work: Path, requests: int, *, progress: bool) -> int:
    """Instructions the whole process executes under callgrind, for ``requests`` replayed
    requests after the two recorded ones."""
    out = work / f"callgrind.{requests}"
    wrapper = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--quiet")
    env = {**warm.env, "HARNESS_REPLAY_FROM": "2"}
    events = warm.events(requests + 2, progress=progress)
    *answers, _ = invoke(warm.task, warm.runtime, events, env, wrapper=wrapper)
    # Counted only if every request took the measured path, none over the wire.
    assert all(answer["status"] == 200 for answer in answers), answers[-1]
    assert sum(answer["aws_requests_sent"] for answer in answers[2:]) == 0
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    assert totals, f"no total in {out}"
    return int(totals.group(1))


def instructions_per_request(warm: latency.Warm, work: Path, *, progress: bool) -> float:
    fewer, more = CALLGRIND_REQUESTS
    counts = [instructions(warm, work, n, progress=progress) for n in (fewer, more)]
    return (counts[1] - counts[0]) / (more - fewer)


def main(zip_path: Path, *, progress: bool, callgrind: bool) -> None:
    server, endpoint = start_moto()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            warm = latency.prepare_warm(zip_path, endpoint, work)
            stats = profile(warm, work / "warm.prof", progress=progress)
            print("cumulative  own  function (shares of the handler's time, cProfile)")
            for cumulative, own, name in shares(stats):
                print(f"{cumulative:9.1%} {own:5.1%}  {name}")
            if callgrind:
                per_request = instructions_per_request(warm, work, progress=progress)
                print(f"instructions per request (callgrind): {per_request:,.0f}")
    finally:
        stop(server)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m deploy.bench.warm_profile")
    parser.add_argument("zip", nargs="?", type=Path, default=ROOT / "dist" / "voj-prod.zip")
    parser.add_argument("--progress", action="store_true", help="the progress write instead")
    parser.add_argument("--callgrind", action="store_true", help="count instructions too")
    arguments = parser.parse_args()
    if arguments.callgrind and not shutil.which("valgrind"):
        parser.error("--callgrind needs valgrind on the PATH")
    main(arguments.zip, progress=arguments.progress, callgrind=arguments.callgrind)
