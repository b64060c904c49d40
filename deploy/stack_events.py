"""What a stack operation left in the stack's events: why it failed, and whether a dead stack
may go.

CloudFormation writes why an operation failed only into the stack's events (the resource whose
create or update failed, and the service's message); `stack apply` prints those of the operation
it ran. A first create that fails ends in ROLLBACK_COMPLETE, where CloudFormation accepts nothing
but a delete: such a stack never completed, so it holds nothing, and apply deletes it and creates
it anew. A resource with `DeletionPolicy: Retain` that the failed create had made is kept by the
rollback (DELETE_SKIPPED): apply names it, because a new create stops on its fixed name.
"""

from __future__ import annotations

from typing import Any

from deploy.shared import say

STACK_TYPE = "AWS::CloudFormation::Stack"
# The stack's own event that opens an operation (a rollback is part of the operation it undoes).
OPERATION_STARTS = {"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "IMPORT_IN_PROGRESS"}
COMPLETED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


def _stack_level(event: dict[str, Any], name: str) -> bool:
    return event.get("ResourceType") == STACK_TYPE and event["LogicalResourceId"] == name


def _events(client: Any, name: str) -> list[dict[str, Any]]:
    """Every event of the stack, newest first (as CloudFormation lists them)."""
    pages = client.get_paginator("describe_stack_events").paginate(StackName=name)
    return [event for page in pages for event in page["StackEvents"]]


def operation_events(client: Any, name: str) -> list[dict[str, Any]]:
    """The events of the stack's latest operation, oldest first."""
    latest: list[dict[str, Any]] = []
    for event in _events(client, name):
        latest.append(event)
        if _stack_level(event, name) and event["ResourceStatus"] in OPERATION_STARTS:
            break
    return latest[::-1]


def say_failures(client: Any, name: str) -> None:
    """The FAILED events of the latest operation, in the order they happened (the first is
    usually the cause; later ones are often "Resource creation cancelled"), and what its
    rollback kept."""
    events = operation_events(client, name)
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
    if not failed:
        say(f"  no FAILED event in this operation: see the events of stack {name}")
    for event in failed:
        say(
            f"  {event['ResourceStatus']:<14} {event['LogicalResourceId']} "
            f"({event.get('ResourceType', '')}): {event.get('ResourceStatusReason', '')}"
        )
    for event in events:
        if event["ResourceStatus"] == "DELETE_SKIPPED" and not _stack_level(event, name):
            say(
                f"  kept by the rollback (DeletionPolicy Retain): {event['LogicalResourceId']} "
                f"{event.get('PhysicalResourceId', '')} ({event.get('ResourceType', '')}); "
                "a new create stops on its name until it is deleted"
            )


def clear_failed_create(client: Any, name: str) -> None:
    """Delete a stack whose first create failed (ROLLBACK_COMPLETE), saying why it failed.
    Refuses if the stack ever completed an operation: that one may hold data."""
    events = _events(client, name)
    if any(_stack_level(e, name) and e["ResourceStatus"] in COMPLETED for e in events):
        raise SystemExit(
            f"stack {name} is ROLLBACK_COMPLETE but once completed; it is not deleted: read its "
            "events and delete it yourself only if it holds nothing"
        )
    say(f"stack {name}: ROLLBACK_COMPLETE, its first create failed:")
    say_failures(client, name)
    client.delete_stack(StackName=name)
    client.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
    )
    say(f"stack {name}: deleted (it never completed, so it held nothing); creating it anew")
