"""Restore the packaged handler from a snapshot the way Lambda SnapStart does, on this machine.

One interpreter, set up as deploy/local/lambda_harness.py sets it up (the unpacked package, the
runtime's modules, no site-packages), imports Zappa's handler as Lambda initialises a version
(``INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT``: Zappa builds the Django application at import) and
runs the before-snapshot hooks registered with ``snapshot_restore_py``. Its state is then the
snapshot: each child forked from it is one environment restored from that snapshot. A child
first puts ``random`` back to the parent's state (Python reseeds it in a forked child; a
snapshot would not), runs the after-restore hooks, then answers its events.

With ``replay``, a first child answers the events over the wire and records AWS's answers
(lambda_harness's HARNESS_REPLAY_FROM machinery); the measured children get those answers at
zero latency, so their times are voj's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from deploy.local.lambda_harness import _SCRIPT, harness_answer, lambda_environment

# lambda_harness's script up to the handler's import: the arguments, the context and the
# zero-latency replay of AWS's answers.
_PREAMBLE, _found, _ = _SCRIPT.partition("\nimport handler\n")
assert _found, "deploy/local/lambda_harness.py's script no longer imports the handler"

_RESTORE = r"""
import gc, pickle, random
plan = events
import handler
import snapshot_restore_py as hooks
from voj import aws

initialised = time.time() - started

def run(registered):
    for function, args, kwargs in registered:
        function(*args, **kwargs)

began = time.perf_counter()
run(hooks.get_before_snapshot())
before_snapshot = time.perf_counter() - began
frozen = random.getstate()

# The access key of every AWS signature: each restored environment's own, if restored right.
import botocore.auth
signed = set()
add_auth = botocore.auth.SigV4Auth.add_auth

def recorded_auth(self, request):
    signed.add(self.credentials.access_key)
    return add_auth(self, request)

botocore.auth.SigV4Auth.add_auth = recorded_auth

def objects():
    # The clients a request uses, which a restore keeps (voj/aws.py renew_clients).
    from books.repository import get_repository
    from listening.repository import get_listening_repository
    from streaming.stores import get_object_store
    from voj.security import get_security_state
    return {
        "dynamodb": aws.aws_client("dynamodb"),
        "s3": aws.aws_client("s3"),
        "catalogue": get_repository().calls.client,
        "listening": get_listening_repository().calls.client,
        "storage": get_object_store().client,
        "security": get_security_state().client,
    }

parent = objects()

def restored(recording, number):
    random.setstate(frozen)
    # What the restored environment's runtime gives it anew (its credentials).
    os.environ.update(plan["environments"][number] if plan["environments"] else {})
    signed.clear()
    wire["replay"] = not recording
    wire["seen"] = {}
    began, cpu_began = time.perf_counter(), time.process_time()
    run(hooks.get_after_restore())
    restore = time.perf_counter() - began
    restore_cpu = time.process_time() - cpu_began
    answers = []
    access = ""
    for event in plan["events"]:
        wire["seen"] = {}
        sent = wire["sent"]
        # "{access}": the access token of this child's latest login, wherever the event format
        # keeps its headers; "{child}": the child's number.
        text = json.dumps(event).replace("{access}", access).replace("{child}", str(number))
        event = json.loads(text)
        response = handler.lambda_handler(event, Context())
        if response["statusCode"] == 200 and '"access"' in (response.get("body") or ""):
            access = json.loads(response["body"])["access"]
        answers.append({
            "status": response["statusCode"],
            "body": response.get("body"),
            "since_restore": time.perf_counter() - began,
            "cpu_since_restore": time.process_time() - cpu_began,
            "aws_requests_sent": wire["sent"] - sent,
        })
    own = objects()
    return {
        "pid": os.getpid(),
        "after_restore": restore,
        "after_restore_cpu": restore_cpu,
        "answers": answers,
        "random": random.random(),
        "parents_clients": sorted(name for name in own if own[name] is parent[name]),
        "signed_with": sorted(signed),
        "recorded": recorded if recording else None,
    }

def child(recording, number=0):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            payload = restored(recording, number)
        except BaseException as error:
            payload = {"error": repr(error)}
        with os.fdopen(write, "wb") as out:
            pickle.dump(payload, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as source:
        payload = pickle.load(source)
    os.waitpid(pid, 0)
    if "error" in payload:
        raise RuntimeError(payload["error"])
    return payload

children = []
if plan["replay"]:
    recorded.update(child(recording=True)["recorded"])
for number in range(plan["children"]):
    answer = child(recording=False, number=number)
    answer.pop("recorded")
    children.append(answer)
print("HARNESS" + json.dumps({
    "initialised": initialised,
    "before_snapshot": before_snapshot,
    "random": random.random(),
    "children": children,
}))
"""


def restore(
    task_dir: Path,
    runtime: Path,
    events: list[dict],
    env: dict[str, str],
    *,
    children: int = 2,
    replay: bool = False,
    environments: list[dict[str, str]] | None = None,
    logs: list[str] | None = None,
) -> dict[str, Any]:
    """Initialise one process, run its before-snapshot hooks, fork ``children`` restored
    environments from it and have each answer ``events``. Returns the seconds the
    initialisation and the hooks took, and per child the seconds its after-restore hooks took,
    its answers (each with the seconds since the restore began), the first number its ``random``
    drew, which of the parent's clients it still used (all: a restore keeps them) and the
    access keys its AWS requests were signed with. ``environments``, if given, holds for each
    child the variables its restored environment sets anew (its credentials: each child must
    sign with its own). ``{access}`` in an event (``Authorization: Bearer {access}``) is the
    access token of the child's latest login, ``{child}`` the child's number (0, 1, ...).
    ``logs``, if given, receives the lines the processes logged."""
    return initialised(
        task_dir,
        runtime,
        _PREAMBLE + _RESTORE,
        {"events": events, "children": children, "replay": replay, "environments": environments},
        {**({"HARNESS_REPLAY_FROM": "0"} if replay else {}), **env},
        logs=logs,
    )


def initialised(
    task_dir: Path,
    runtime: Path,
    script: str,
    payload: Any,
    env: dict[str, str],
    *,
    logs: list[str] | None = None,
) -> Any:
    """Run ``script`` (which imports Zappa's handler, initialising the application as a
    SnapStart function's initialisation does) in a fresh interpreter set up as Lambda's, with
    ``payload`` as JSON on its stdin and its first ``argv`` the start time; return what it
    printed after ``HARNESS`` as JSON."""
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(started)],
        input=json.dumps(payload),
        cwd=task_dir,
        env={
            **lambda_environment(task_dir, runtime),
            # What a SnapStart function sets, so that initialisation builds the application.
            "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return harness_answer(result, logs, "restore failed")
