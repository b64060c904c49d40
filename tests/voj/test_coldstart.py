"""Garbage collection paused for a Lambda cold start and resumed after the first request."""

from __future__ import annotations

import gc

import pytest
from django.core.signals import request_finished

from voj.coldstart import pause_collection, resume_collection


@pytest.fixture
def collector():
    yield
    # Leave the test process as it found it.
    request_finished.disconnect(resume_collection, dispatch_uid="voj.coldstart.resume_collection")
    gc.unfreeze()
    gc.enable()


def test_on_lambda_collection_waits_for_the_first_request(collector, monkeypatch, client):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "voj-prod")
    pause_collection()
    assert not gc.isenabled()
    before = gc.get_freeze_count()

    assert client.get("/api/v1/health").status_code == 200

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    assert frozen > before + 10_000
    # Once only: later requests neither freeze again nor pause.
    assert client.get("/api/v1/health").status_code == 200
    assert gc.isenabled() and gc.get_freeze_count() <= frozen


def test_elsewhere_collection_is_never_paused(collector, monkeypatch, client):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    before = gc.get_freeze_count()
    pause_collection()
    assert gc.isenabled()
    assert client.get("/api/v1/health").status_code == 200
    assert gc.get_freeze_count() <= before
