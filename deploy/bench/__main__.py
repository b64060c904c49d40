"""Cold start and warm latency of the packaged handler, against hello worlds built the same way.

    python -m deploy.bench dist/voj-prod.zip [--write]      (make bench [BENCH_FLAGS=--write])
    python -m deploy.bench dist/voj-prod.zip --warm         (voj's own warm times alone)

Also measures the operator database file at 1k, 10k and 100k accounts (deploy/bench/opsdb.py).
Both packages run through Zappa's handler in fresh interpreters that see only the package and
what the Lambda runtime provides (deploy/local/lambda_harness.py); AWS is a moto server on
127.0.0.1. Then the catalogue's and the listeners' DynamoDB write and read units, on DynamoDB
Local (deploy/bench/dynamodb.py, also runnable alone), and the cost model built from them
(deploy/bench/cost_report.py); and SnapStart's restore to the first response with the price of
each lazy import (deploy/bench/restore.py; `--only restore` runs that part alone). Prints the
figures; rewrites
docs/performance.md from deploy/bench/performance.md.template only with --write.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from deploy.bench import api_units, cost_report, dynamodb, latency, opsdb, report, restore
from deploy.local.processes import start_moto, stop


def measure_on_moto(zip_path: Path) -> tuple[latency.Latency, str]:
    """The packaged handler's latency and the operator database's section, on one moto server."""
    server, endpoint = start_moto()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            measured = latency.measure(zip_path, endpoint, Path(tmp))
            operator_database = opsdb.section(opsdb.measure(endpoint))
    finally:
        stop(server)
    return measured, operator_database


def warm_only(zip_path: Path) -> None:
    """voj's own time per warm stream-url and progress write, wall clock and CPU, with the
    load: the part of the bench to repeat when comparing one tree with another."""
    load_before = os.getloadavg()[0]
    server, endpoint = start_moto()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            own = latency.measure_own(latency.prepare_warm(zip_path, endpoint, Path(tmp)))
    finally:
        stop(server)
    print(report.own_summary(own, report.load(load_before)))


def restore_on_moto(zip_path: Path) -> str:
    """SnapStart's restore and the lazy imports' prices (deploy/bench/restore.py), on a moto
    server of their own."""
    load_before = os.getloadavg()[0]
    server, endpoint = start_moto()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            measured = restore.measure_on(zip_path, endpoint, Path(tmp))
    finally:
        stop(server)
    return f"This part: {report.load(load_before)}.\n\n{restore.section(measured)}"


def main(zip_path: Path, *, write: bool, only: str | None = None) -> None:
    # The listening shelf's measure signs its page cursor with the settings' SECRET_KEY.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voj.settings")
    load_before = os.getloadavg()[0]
    if only == "restore":
        restored = restore_on_moto(zip_path)
        print(f"{latency.machine()}; {report.load(load_before)}\n\n{restored}")
        return
    measured, operator_database = measure_on_moto(zip_path)
    snapstart = restore_on_moto(zip_path)
    with dynamodb.dynamodb_local() as endpoint:
        dynamodb_costs = dynamodb.section(endpoint)
        units = api_units.measure(endpoint)
    cost_model = cost_report.section(
        units, measured.voj_own_cpu, measured.progress_own_cpu, api_units.bitrate()
    )
    machine = f"{latency.machine()}; {report.load(load_before)}"
    print(report.summary(measured, machine))
    print(dynamodb_costs)
    print(operator_database)
    print(snapstart)
    print("\n\n".join(cost_model[name] for name in ("cost_inputs", "cost_hours", "cost_goal")))
    if not write:
        print("docs/performance.md left as it is (python -m deploy.bench --write rewrites it)")
        return
    report.PERFORMANCE.write_text(
        report.render(
            measured,
            machine=machine,
            dynamodb_costs=dynamodb_costs,
            operator_database=operator_database,
            snapstart=snapstart,
            cost_model=cost_model,
        )
    )
    print("docs/performance.md rewritten")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m deploy.bench")
    parser.add_argument("zip", nargs="?", type=Path, default=report.ROOT / "dist" / "voj-prod.zip")
    parser.add_argument("--write", action="store_true", help="rewrite docs/performance.md")
    parser.add_argument(
        "--warm", action="store_true", help="only voj's own warm times (nothing written)"
    )
    parser.add_argument(
        "--only", choices=["restore"], help="only SnapStart's restore and the lazy imports' prices"
    )
    arguments = parser.parse_args()
    if (arguments.only or arguments.warm) and arguments.write:
        parser.error("--write rewrites the whole page: run the whole bench")
    if arguments.warm:
        warm_only(arguments.zip)
    else:
        main(arguments.zip, write=arguments.write, only=arguments.only)
