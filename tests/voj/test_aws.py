"""The AWS services the application calls: the Lambda package carries models for these only."""

from __future__ import annotations

import re
from pathlib import Path

from voj.aws import RUNTIME_SERVICES

ROOT = Path(__file__).resolve().parents[2]
CLIENT_CALL = re.compile(r"""\b(?:aws_client|build_client)\(\s*["']([a-z0-9-]+)["']""")


def test_every_service_the_application_calls_ships_in_the_package():
    called = {
        service
        for package in ("voj", "books", "streaming")
        for path in (ROOT / package).rglob("*.py")
        for service in CLIENT_CALL.findall(path.read_text())
    }
    assert called, "the scan found no client calls: the pattern is stale"
    assert called <= set(RUNTIME_SERVICES), called - set(RUNTIME_SERVICES)
