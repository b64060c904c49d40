"""The real servers the tests run against besides moto (DynamoDB Local, SeaweedFS,
PostgreSQL): where one cannot run, its cases skip and say why, except under CI, which must run
every substrate and fails instead."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def substrate_missing(name: str, reason: str, *, without: str = "") -> NoReturn:
    """Skip the test (fail it under CI): ``name`` cannot run here, for ``reason``; ``without``
    tells how to run the suite without it."""
    if in_ci():
        pytest.fail(f"{name} must run in CI: {reason}", pytrace=False)
    pytest.skip(f"{name} unavailable: {reason}" + (f"; {without}" if without else ""))


def substrate_header(name: str, reason: str | None, available: str) -> str:
    """The line pytest's report header gives the substrate."""
    if reason is None:
        return f"{name}: available ({available})"
    verdict = "CI FAILS its cases" if in_ci() else "its cases SKIP"
    return f"{name}: UNAVAILABLE, {verdict}: {reason}"
