"""Work that runs inside the stage's function, where its databases are reachable: a PostgreSQL
in the database stack's VPC answers only the function (docs/deploy.md §12). The tools invoke
voj/opsdb/switch_task.py through Zappa's ``command`` event and read its answer."""

from __future__ import annotations

import json
from typing import Any

from deploy import shared
from voj.opsdb.switch_state import TASK


def invoke(stage: str, action: str, to: str | None = None) -> dict[str, Any]:
    """The task's answer, or the tool stops with what went wrong."""
    payload = {"command": TASK, "action": action, **({"to": to} if to else {})}
    answer = shared.client("lambda").invoke(
        FunctionName=f"voj-{stage}", Payload=json.dumps(payload).encode()
    )
    body = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError") or not isinstance(body, dict):
        raise SystemExit(f"the function failed to run the {action} task: {body}")
    if "error" in body:
        raise SystemExit(f"the {action} task failed inside the function: {body['error']}")
    return body
