"""Run the packaged handler the way Lambda does, on this machine.

The zip is unpacked into a read-only directory standing in for /var/task; the interpreter runs
without site-packages, seeing only the package and what the python3.12 runtime provides
(boto3, botocore and their dependencies); Zappa's handler gets an API Gateway proxy event.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3

from deploy.stacks import stack_name

CORE_STACK = stack_name("prod", "core")
REGION = "ap-northeast-2"

# What the Lambda python3.12 runtime has besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def unpack(zip_path: Path, task_dir: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task_dir)
    for path in [task_dir, *task_dir.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return task_dir


def runtime_dir(target: Path) -> Path:
    """boto3 and friends from this interpreter's site-packages, nothing else."""
    site = Path(boto3.__file__).resolve().parent.parent
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        source = site / name
        if source.exists() and not (target / name).exists():
            (target / name).symlink_to(source)
    return target


def api_gateway_event(
    path: str, *, method: str = "GET", headers: dict | None = None, body: str | None = None
) -> dict:
    """An API Gateway proxy event; ``body`` is the request body as text (JSON: say so in a
    Content-Type header)."""
    host = "abc123def4.execute-api.ap-northeast-2.amazonaws.com"
    all_headers = {
        "Host": host,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        "X-Forwarded-For": "203.0.113.7",
        "User-Agent": "voj-harness",
        **(headers or {}),
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "harness-request",
            "apiId": host.split(".", 1)[0],
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


# Runs inside the fresh process: import the handler, answer the events, time each step.
_SCRIPT = r"""
import json, sys, time
started = float(sys.argv[1])
events = json.loads(sys.stdin.read())

class Context:
    aws_request_id = "harness"
    function_name = "voj-prod"
    memory_limit_in_mb = 1024
    def get_remaining_time_in_millis(self):
        return 30000

# HARNESS_REPLAY_FROM=n: from the n-th event on, AWS answers at zero latency. botocore still
# builds, signs and sends each request and parses the answer; only the wire is replaced by the
# answer moto gave to the same request earlier in this process: the same method, URL and target,
# and the same place among the event's requests of that kind (its second GetItem gets the answer
# of an earlier event's second GetItem: DynamoDB's requests differ only by their bodies, which
# are not compared, so one request reading several tables gets each table's answer).
import os
replay_from = int(os.environ.get("HARNESS_REPLAY_FROM", "-1"))
wire = {"replay": False, "sent": 0, "seen": {}}
if replay_from >= 0:
    import io, botocore.awsrequest, botocore.endpoint

    recorded = {}
    send = botocore.endpoint.Endpoint._send

    # A body botocore can both parse (stream) and hand out as a StreamingBody (read).
    class Raw(io.BytesIO):

        def stream(self, **_):
            yield self.getvalue()

    def replayed(self, request):
        kind = (request.method, request.url, request.headers.get("X-Amz-Target"))
        wire["seen"][kind] = nth = wire["seen"].get(kind, 0) + 1
        key = (*kind, nth)
        if wire["replay"] and key in recorded:
            url, status, headers, body = recorded[key]
            return botocore.awsrequest.AWSResponse(url, status, headers, Raw(body))
        wire["sent"] += 1
        response = send(self, request)
        body = response.content
        response.raw = Raw(body)  # read here, so the caller's streaming body starts afresh
        recorded[key] = (response.url, response.status_code, response.headers, body)
        return response

    botocore.endpoint.Endpoint._send = replayed

import handler
results = []
for number, event in enumerate(events):
    wire["replay"] = 0 <= replay_from <= number
    wire["seen"] = {}
    sent_before = wire["sent"]
    began, cpu_began = time.perf_counter(), time.process_time()
    response = handler.lambda_handler(event, Context())
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu_began
    # An API Gateway answer, or what a direct invocation (Zappa's command event) returned.
    http = isinstance(response, dict) and "statusCode" in response
    results.append({
        "status": response["statusCode"] if http else None,
        "body": response.get("body") if http else json.dumps(response),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "since_start": time.time() - started,
        "aws_requests_sent": wire["sent"] - sent_before,
    })
import botocore, django, gc
state = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
began = time.perf_counter()
gc.collect()
state["full_collection_seconds"] = time.perf_counter() - began
results.append({
    "django": django.__file__,
    "botocore": botocore.__file__,
    "django.test": "django.test" in sys.modules,
    "psycopg": sys.modules.get("psycopg") is not None,
    "gc": state,
})
print("HARNESS" + json.dumps(results))
"""


def invoke(
    task_dir: Path,
    runtime: Path,
    events: list[dict],
    env: dict[str, str],
    *,
    logs: list[str] | None = None,
) -> list[Any]:
    """Start a fresh interpreter, send the events, return each response (and, last, where Django
    and botocore were loaded from, whether Django's test framework was loaded, and the state of
    the garbage collector). ``logs``, if given, receives the lines the process logged."""
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-S", "-c", _SCRIPT, str(started)],
        input=json.dumps(events),
        cwd=task_dir,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin"),
            "PYTHONPATH": f"{task_dir}{os.pathsep}{runtime}",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(task_dir),
            "AWS_LAMBDA_FUNCTION_NAME": "voj-prod",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if logs is not None:
        logs.extend(result.stderr.splitlines())
    for line in result.stdout.splitlines():
        if line.startswith("HARNESS"):
            return json.loads(line.removeprefix("HARNESS"))
    raise RuntimeError(f"handler failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def moto_client(endpoint: str, service: str) -> Any:
    """A client for the moto server at endpoint, with its throwaway credentials."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="moto",
        aws_secret_access_key="moto",
    )


# The core stack's required parameters, for a stack on moto (the tests, the benchmark).
CORE_TEST_PARAMETERS = {
    "ApiOrigin": "https://api.voj.test",
    "FrontendOrigin": "https://app.voj.test",
    "AlarmEmail": "ops@voj.test",
}


def prod_on_moto(endpoint: str, stack_template: Path) -> dict[str, str]:
    """The core stack and the stage's secrets in a moto server, as production reads them;
    returns the environment that points the AWS clients there. Idempotent."""
    cloudformation = moto_client(endpoint, "cloudformation")
    names = [s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"]]
    if CORE_STACK not in names:
        cloudformation.create_stack(
            StackName=CORE_STACK,
            TemplateBody=stack_template.read_text(),
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in {"Stage": "prod", **CORE_TEST_PARAMETERS}.items()
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    ssm = moto_client(endpoint, "ssm")
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"):
        ssm.put_parameter(
            Name=f"/voj/prod/{name}",
            Value=secrets.token_urlsafe(50),
            Type="SecureString",
            Overwrite=True,
        )
    return {
        "AWS_ACCESS_KEY_ID": "moto",
        "AWS_SECRET_ACCESS_KEY": "moto",
        "AWS_DEFAULT_REGION": REGION,
        "VOJ_AWS_ENDPOINT_URL": endpoint,
    }
