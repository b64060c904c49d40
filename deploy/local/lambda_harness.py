"""Run the packaged handler the way Lambda does, on this machine.

The zip is unpacked into a read-only directory standing in for /var/task; the interpreter runs
without site-packages, seeing only the package and what the python3.12 runtime provides
(boto3, botocore and their dependencies); Zappa's handler gets the events API Gateway's HTTP
API sends (payload format 2.0).
"""

from __future__ import annotations

import base64
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
from urllib.parse import parse_qs

import boto3

from deploy.stacks import stack_name

CORE_STACK = stack_name("prod", "core")
REGION = "ap-northeast-2"
API_ID = "abc123def4"  # the HTTP API's id in the events: its host is the one the app serves

# What the Lambda python3.12 runtime has besides the standard library.
RUNTIME_PACKAGES = (
    *("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"),
    "snapshot_restore_py.py",  # SnapStart's hook registry (voj/snapstart.py)
)


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


def _http(method: str, path: str, source_ip: str, user_agent: str) -> dict[str, str]:
    """requestContext.http: the address API Gateway itself saw is sourceIp."""
    return {
        "method": method,
        "path": path,
        "protocol": "HTTP/1.1",
        "sourceIp": source_ip,
        "userAgent": user_agent,
    }


def _with_parts(
    event: dict[str, Any], query: str, cookies: list[str] | None, body: str | bytes | None
) -> dict[str, Any]:
    """The event's optional parts: parsed query (values comma-joined), cookies, body."""
    if query:
        parsed = parse_qs(query, keep_blank_values=True)
        event["queryStringParameters"] = {key: ",".join(values) for key, values in parsed.items()}
    if cookies:
        event["cookies"] = list(cookies)
    if isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode()
    elif body is not None:
        event["body"] = body
    return event


def api_gateway_event(
    path: str,
    *,
    method: str = "GET",
    headers: dict | None = None,
    body: str | bytes | None = None,
    query: str = "",
    cookies: list[str] | None = None,
    source_ip: str = "203.0.113.7",
    stage: str = "prod",
) -> dict:
    """An API Gateway HTTP API event (payload format 2.0), as the API Zappa creates sends it.

    ``path`` is the app's path: the stage's name leads the raw path on the execute-api host, not
    through a custom domain's mapping or the ``$default`` stage. A text ``body`` goes as it is,
    bytes base64-encoded (as API Gateway sends what it takes for binary). ``query`` is the raw
    query string; ``cookies`` one ``name=value`` each (HTTP API moves them out of the headers).
    """
    host = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
    given = {name.lower(): value for name, value in (headers or {}).items()}
    all_headers = {
        "host": host,
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
        # HTTP API appends the address it saw to what the client sent.
        "x-forwarded-for": ", ".join(filter(None, [given.pop("x-forwarded-for", ""), source_ip])),
        "user-agent": "voj-harness",
        **given,
    }
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    binary = isinstance(body, bytes)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": API_ID,
            "http": _http(method, raw_path, source_ip, all_headers["user-agent"]),
            "requestId": f"Hq{secrets.token_hex(6)}=",
            "routeKey": "$default",
            "stage": stage,
            "time": "02/Dec/2026:22:00:00 +0000",
            "timeEpoch": 1796248800000,
        },
        "isBase64Encoded": binary,
    }
    return _with_parts(event, query, cookies, body)


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

# HARNESS_PROFILE=path: cProfile the replayed events only (voj's own time), stats to path.
profile_to = os.environ.get("HARNESS_PROFILE")
if profile_to:
    import cProfile
    profiler = cProfile.Profile()

import handler
results = []
for number, event in enumerate(events):
    wire["replay"] = 0 <= replay_from <= number
    wire["seen"] = {}
    sent_before = wire["sent"]
    began, cpu_began = time.perf_counter(), time.process_time()
    profiling = profile_to and wire["replay"]
    if profiling:
        profiler.enable()
    response = handler.lambda_handler(event, Context())
    if profiling:
        profiler.disable()
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu_began
    # An API Gateway answer, or what a direct invocation (Zappa's command event) returned.
    http = isinstance(response, dict) and "statusCode" in response
    results.append({
        "status": response["statusCode"] if http else None,
        "body": response.get("body") if http else json.dumps(response),
        "headers": (response.get("headers") or {}) if http else {},
        "cookies": (response.get("cookies") or []) if http else [],
        "base64": response.get("isBase64Encoded", False) if http else False,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "since_start": time.time() - started,
        "aws_requests_sent": wire["sent"] - sent_before,
    })
if profile_to:
    profiler.dump_stats(profile_to)
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
    wrapper: tuple[str, ...] = (),
) -> list[Any]:
    """Start a fresh interpreter, send the events, return each response (and, last, where Django
    and botocore were loaded from, whether Django's test framework was loaded, and the state of
    the garbage collector). ``logs``, if given, receives the lines the process logged;
    ``wrapper`` runs the interpreter under a tool (valgrind's callgrind for the bench)."""
    started = time.time()
    result = subprocess.run(
        [*wrapper, sys.executable, "-S", "-c", _SCRIPT, str(started)],
        input=json.dumps(events),
        cwd=task_dir,
        env={**lambda_environment(task_dir, runtime), **env},
        capture_output=True,
        text=True,
        timeout=1800 if wrapper else 120,
        check=False,
    )
    return harness_answer(result, logs, "handler failed")


def lambda_environment(task_dir: Path, runtime: Path) -> dict[str, str]:
    """What Lambda's python3.12 runtime sets for the handler's process, as far as voj's start
    depends on it: the package and the runtime's libraries on the path, the function's name."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": f"{task_dir}{os.pathsep}{runtime}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task_dir),
        "AWS_LAMBDA_FUNCTION_NAME": "voj-prod",
        # Lambda's own (a reserved variable). Without it a strftime, which botocore makes for
        # every signature, took twice as long on the bench's machine (31 against 15 us).
        "TZ": ":UTC",
    }


def harness_answer(
    result: subprocess.CompletedProcess[str], logs: list[str] | None, failure: str
) -> Any:
    """What the harness script printed after ``HARNESS``, as JSON; its log lines into ``logs``."""
    if logs is not None:
        logs.extend(result.stderr.splitlines())
    for line in result.stdout.splitlines():
        if line.startswith("HARNESS"):
            return json.loads(line.removeprefix("HARNESS"))
    raise RuntimeError(f"{failure}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


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
    return stage_on_moto(endpoint, stack_template, "prod")


def stage_on_moto(endpoint: str, stack_template: Path, stage: str) -> dict[str, str]:
    """prod_on_moto for any stage (the deploy drill deploys dev too)."""
    cloudformation = moto_client(endpoint, "cloudformation")
    names = [s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"]]
    if stack_name(stage, "core") not in names:
        cloudformation.create_stack(
            StackName=stack_name(stage, "core"),
            TemplateBody=stack_template.read_text(),
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in {"Stage": stage, **CORE_TEST_PARAMETERS}.items()
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    ssm = moto_client(endpoint, "ssm")
    for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"):
        ssm.put_parameter(
            Name=f"/voj/{stage}/{name}",
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
