"""Loaded into the Zappa process the tests start (this directory goes first on its PYTHONPATH):
records the AWS operations Zappa makes, and fills moto's gaps (moto_gaps.py)."""

from __future__ import annotations

import json
import os

import botocore.client
import moto_gaps
import moto_http_api

_record = os.environ.get("VOJ_RECORD_OPERATIONS")
RECORDER = "voj-record-operations"  # the shims' own requests unregister it: Zappa made none


def _recorder(model, params, **kwargs):
    with open(_record, "a") as out:
        out.write(json.dumps(operation_record(model, params)) + "\n")


def operation_record(model, params) -> dict:
    """What an IAM check needs of one request (the same shape as tests/deploy/iam.py records),
    and the SnapStart setting asked for, which moto does not keep."""
    record = {
        "service": model.service_model.signing_name,
        "operation": model.name,
        "method": model.http.get("method", ""),
        "params": sorted(params),
    }
    if "SnapStart" in params:
        record["function"] = params.get("FunctionName")
        record["snap_start"] = params["SnapStart"].get("ApplyOn")
    return record


def _register(client):
    if _record:
        client.meta.events.register("before-parameter-build", _recorder, unique_id=RECORDER)
    return moto_http_api.register(moto_gaps.register(client))


_create_client = botocore.client.ClientCreator.create_client
botocore.client.ClientCreator.create_client = lambda self, *a, **k: _register(
    _create_client(self, *a, **k)
)
