"""Shims for exactly what moto 5 lacks of the Lambda API that `zappa update` and `zappa rollback`
call; loaded into the Zappa process the tests start (sitecustomize.py), never into voj. Each is
named, and docs/deploy.md lists them:

- list-function-url-configs: moto answers 404 "Not yet implemented". voj has no function URL
  (API Gateway fronts the function), so the shim answers what Lambda answers for such a
  function: no configurations.
- partial-arn-qualifier: Zappa's rollback asks GetFunction for "function:NAME:VERSION", which
  Lambda accepts and moto cannot parse; the shim sends the same request as FunctionName NAME
  with Qualifier VERSION.
- version-code-download: Lambda's GetFunction gives Code.Location, a pre-signed S3 URL of the
  version's zip, which Zappa's rollback downloads; moto's URL is served by nothing. The shim keeps
  every zip this Zappa sends (CreateFunction, UpdateFunctionCode) in VOJ_SHIM_CODE_STORE under its
  SHA-256, the digest Lambda reports as CodeSha256, and answers the download with the zip whose
  digest moto reports for that version, so it can only return that version's code.
- version-numbers-after-delete: moto numbers a new version len(versions) + 1, so once a version
  is deleted (Zappa's pruning, `num_retained_versions`) it hands out a number still in use, and an
  alias moved to "the new version" lands on an old one. The shim keeps moto's versions and
  deletes them from Zappa's view instead: DeleteFunction of a version is recorded in
  VOJ_SHIM_CODE_STORE/deleted-versions (one "FUNCTION:VERSION" a line, which the drill reads too)
  and answered as Lambda answers it, and ListVersionsByFunction leaves the recorded ones out.

VOJ_SHIM_WITHOUT (names, comma-separated) leaves a gap open: the release drill reproduces an
update that fails after uploading the code (without list-function-url-configs).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import botocore.awsrequest
import requests

STORE = Path(os.environ["VOJ_SHIM_CODE_STORE"])
_locations: dict[str, str] = {}  # Code.Location -> CodeSha256


def _code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _keep_code(params, **kwargs):
    data = params.get("ZipFile") or params.get("Code", {}).get("ZipFile")
    if data:
        STORE.mkdir(parents=True, exist_ok=True)
        (STORE / hashlib.sha256(data).hexdigest()).write_bytes(data)


def _list_function_url_configs(**kwargs):
    return (
        botocore.awsrequest.AWSResponse("", 200, {}, None),
        {"FunctionUrlConfigs": [], "ResponseMetadata": {"HTTPStatusCode": 200}},
    )


def _split_partial_arn(params, **kwargs):
    name = params.get("FunctionName", "")
    if name.startswith("function:") and name.count(":") == 2:
        _, params["FunctionName"], params["Qualifier"] = name.split(":")


def _remember_location(http_response, parsed, **kwargs):
    if "Code" in parsed and "Location" in parsed["Code"]:
        _locations[parsed["Code"]["Location"]] = parsed["Configuration"]["CodeSha256"]


DELETED = STORE / "deleted-versions"


def deleted_versions() -> set[str]:
    """ "FUNCTION:VERSION" of every version deleted through the shim."""
    return set(DELETED.read_text().split()) if DELETED.exists() else set()


def _keep_params(params, context, **kwargs):
    context["shim_params"] = dict(params)


def _delete_version(context, **kwargs):
    params = context["shim_params"]
    if not params.get("Qualifier"):
        return None  # the function itself: moto deletes it
    STORE.mkdir(parents=True, exist_ok=True)
    with DELETED.open("a") as out:
        out.write(f"{params['FunctionName']}:{params['Qualifier']}\n")
    return botocore.awsrequest.AWSResponse("", 204, {}, None), {
        "ResponseMetadata": {"HTTPStatusCode": 204}
    }


def _hide_deleted(parsed, context, **kwargs):
    name, gone = context["shim_params"]["FunctionName"], deleted_versions()
    parsed["Versions"] = [v for v in parsed["Versions"] if f"{name}:{v['Version']}" not in gone]


def register(client):
    events = client.meta.events
    events.register("provide-client-params.lambda.CreateFunction", _keep_code)
    events.register("provide-client-params.lambda.UpdateFunctionCode", _keep_code)
    if "list-function-url-configs" not in os.environ.get("VOJ_SHIM_WITHOUT", "").split(","):
        events.register("before-call.lambda.ListFunctionUrlConfigs", _list_function_url_configs)
    events.register("provide-client-params.lambda.GetFunction", _split_partial_arn)
    events.register("after-call.lambda.GetFunction", _remember_location)
    events.register("before-parameter-build.lambda", _keep_params)
    events.register("before-call.lambda.DeleteFunction", _delete_version)
    events.register("after-call.lambda.ListVersionsByFunction", _hide_deleted)
    return client


_get = requests.get


def _download(url, *args, **kwargs):
    if url not in _locations:
        return _get(url, *args, **kwargs)
    response = requests.Response()
    response.url = url
    wanted = base64.b64decode(_locations[url]).hex()
    path = STORE / wanted
    response.status_code = 200 if path.exists() else 404
    response._content = path.read_bytes() if path.exists() else b""
    assert not path.exists() or _code_sha256(response._content) == _locations[url]
    return response


requests.get = _download
