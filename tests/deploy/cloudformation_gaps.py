"""What moto 5's CloudFormation lacks for `stack apply` → `configure`, shimmed at botocore's event
hooks of the clients the deploy tools build (deploy.shared.client); docs/deploy.md lists them:

- change-set-outputs: moto's ExecuteChangeSet creates or updates the resources but never the
  stack's Outputs (a stack created through a change set has none, an updated one keeps its old
  ones), so `configure` after `stack apply` would find nothing. For the core stacks, the shim
  performs the executed change set's own template, parameters and capabilities as CreateStack
  (after removing the empty REVIEW_IN_PROGRESS stack) or UpdateStack, which moto completes with
  Outputs, and answers ExecuteChangeSet as CloudFormation does. Its requests go through a client
  of its own, so the IAM recorder sees only what the tools send. The edge stack is left to
  moto's change set: moto cannot build its outputs at all (it does not model CloudFront public
  keys; CreateStack fails on them), so on moto it has none, which `configure` must report.
- failed-create: moto executes every change set it accepted and has no rollback (no
  ROLLBACK_COMPLETE, no resource events). `fail_create(stack, resource, reason)` makes the next
  create of that stack end as CloudFormation ends a create whose resource fails: ExecuteChangeSet
  succeeds, the stack reads ROLLBACK_COMPLETE and its events are CloudFormation's for such a
  create, until the stack is deleted (moto deletes its empty stack).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.awsrequest

from deploy import shared

STACK_TYPE = "AWS::CloudFormation::Stack"


def _answer(parsed: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}
    return botocore.awsrequest.AWSResponse("", 200, {}, None), parsed


@dataclass
class CloudFormationGaps:
    change_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, tuple[str, str, str, tuple[str, str, str] | None]] = field(
        default_factory=dict
    )
    dead: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def fail_create(
        self,
        stack: str,
        resource: str,
        resource_type: str,
        reason: str,
        kept: tuple[str, str, str] | None = None,
    ) -> None:
        """The next create of ``stack`` fails on ``resource``; ``kept`` (logical id, type,
        physical id), made before the failure and with DeletionPolicy Retain, is left by the
        rollback."""
        self.failures[stack] = (resource, resource_type, reason, kept)

    def _moto(self, region: str) -> Any:
        # Built with boto3 itself: the shim's requests are not the tools' requests.
        return boto3.client(
            "cloudformation",
            region_name=region,
            endpoint_url=os.environ.get("VOJ_AWS_ENDPOINT_URL"),
        )

    def _keep_change_set(self, params: dict[str, Any], **kwargs: Any) -> None:
        self.change_sets[params["ChangeSetName"]] = dict(params)

    def _execute(self, params: dict[str, Any], region: str) -> Any:
        request = self.change_sets[params["ChangeSetName"]]
        name = request["StackName"]
        if request["ChangeSetType"] == "CREATE" and name in self.failures:
            self.dead[name] = self._failed_create_events(name, *self.failures.pop(name))
            return _answer({})
        if not name.endswith("-core"):
            return None  # moto's own ExecuteChangeSet
        stack = {
            "StackName": name,
            "TemplateBody": request["TemplateBody"],
            "Parameters": request.get("Parameters", []),
            "Capabilities": request.get("Capabilities", []),
        }
        moto = self._moto(region)
        if request["ChangeSetType"] == "CREATE":
            moto.delete_stack(StackName=name)  # the empty REVIEW_IN_PROGRESS stack
            moto.create_stack(**stack)
        else:
            moto.update_stack(**stack)
        return _answer({})

    def _failed_create_events(
        self,
        name: str,
        resource: str,
        resource_type: str,
        reason: str,
        kept: tuple[str, str, str] | None,
    ) -> list[dict[str, Any]]:
        """A failed create's events as CloudFormation lists them, newest first."""
        now = datetime.datetime.now(datetime.UTC)
        made = [(kept[0], kept[1], "CREATE_COMPLETE", "", kept[2])] if kept else []
        skipped = [(kept[0], kept[1], "DELETE_SKIPPED", "", kept[2])] if kept else []
        steps = [
            (name, STACK_TYPE, "CREATE_IN_PROGRESS", "User Initiated", name),
            *made,
            (resource, resource_type, "CREATE_IN_PROGRESS", "", ""),
            (resource, resource_type, "CREATE_FAILED", reason, ""),
            (
                name,
                STACK_TYPE,
                "ROLLBACK_IN_PROGRESS",
                f"The following resource(s) failed to create: [{resource}]. "
                "Rollback requested by user.",
                name,
            ),
            *skipped,
            (resource, resource_type, "DELETE_COMPLETE", "", ""),
            (name, STACK_TYPE, "ROLLBACK_COMPLETE", "", name),
        ]
        return [
            {
                "StackName": name,
                "EventId": f"{name}-{n}",
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical,
                "ResourceType": kind,
                "ResourceStatus": status,
                "ResourceStatusReason": why,
                "Timestamp": now + datetime.timedelta(seconds=n),
            }
            for n, (logical, kind, status, why, physical) in reversed(list(enumerate(steps)))
        ]

    def _stacks_read(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        for stack in parsed.get("Stacks", []):
            if stack["StackName"] in self.dead:
                stack["StackStatus"] = "ROLLBACK_COMPLETE"
                stack.pop("Outputs", None)

    def register(self, client: Any) -> Any:
        region = client.meta.region_name
        events = client.meta.events

        # before-call sees the serialised request; the operation's parameters are kept in the
        # request context, which before-parameter-build and before-call share.
        def keep_params(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
            context["api_params"] = dict(params)

        def execute(context: dict[str, Any], **kwargs: Any) -> Any:
            return self._execute(context["api_params"], region)

        def read_events(context: dict[str, Any], **kwargs: Any) -> Any:
            name = context["api_params"]["StackName"]
            return _answer({"StackEvents": self.dead[name]}) if name in self.dead else None

        def delete(context: dict[str, Any], **kwargs: Any) -> None:
            self.dead.pop(context["api_params"]["StackName"], None)

        events.register("before-parameter-build.cloudformation", keep_params)
        events.register(
            "provide-client-params.cloudformation.CreateChangeSet", self._keep_change_set
        )
        events.register("before-call.cloudformation.ExecuteChangeSet", execute)
        events.register("after-call.cloudformation.DescribeStacks", self._stacks_read)
        events.register("before-call.cloudformation.DescribeStackEvents", read_events)
        events.register("before-call.cloudformation.DeleteStack", delete)
        return client


def install(monkeypatch: Any) -> CloudFormationGaps:
    """The shims, on every CloudFormation client the deploy tools build from now on."""
    gaps = CloudFormationGaps()
    build = shared.client

    def client(service: str, region: str = shared.REGION) -> Any:
        built = build(service, region)
        return gaps.register(built) if service == "cloudformation" else built

    monkeypatch.setattr(shared, "client", client)
    return gaps
