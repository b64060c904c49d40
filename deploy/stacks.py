"""The CloudFormation stacks of a stage, changed only through reviewed change sets.

    python -m deploy stack plan|apply STAGE [--template core|edge|monitoring|cdn-alarms|database]
        [--param KEY=VALUE ...] [--yes]

`plan` creates a change set and describes it; `apply` executes it after asking (or with --yes).
Run again, neither changes what is already in place. An update keeps every parameter it is not
told, so key material changes only through `keys rotate`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import yaml

from deploy import http_api, keys, shared, stack_events
from deploy.shared import DEPLOY, REGION, ROOT, say


@dataclass(frozen=True)
class Template:
    file: str
    stack_suffix: str
    region: str | None = None  # None: the stage's region


# Zappa names its own stack (API Gateway) after the function, voj-STAGE: ours must not take that
# name, or `zappa deploy` would replace the core stack's resources with its template.
TEMPLATES = {
    "core": Template("stack.yaml", "-core"),
    "edge": Template("edge.yaml", "-edge"),
    "monitoring": Template("monitoring.yaml", "-monitoring"),
    "cdn-alarms": Template("cdn-alarms.yaml", "-cdn-alarms", region="us-east-1"),
    # Optional: the operator database on PostgreSQL (docs/deploy.md, section 12).
    "database": Template("database.yaml", "-database"),
}


def stack_name(stage: str, template: str) -> str:
    return f"voj-{stage}{TEMPLATES[template].stack_suffix}"


def cloudformation(template: str) -> Any:
    """A CloudFormation client in the template's region."""
    return shared.client("cloudformation", TEMPLATES[template].region or REGION)


class _ParametersLoader(yaml.SafeLoader):
    """CloudFormation's short forms (!Ref, !Sub, ...) matter nowhere in Parameters."""


_ParametersLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def template_parameters(template: str) -> dict[str, dict[str, Any]]:
    """The template's Parameters section: name -> its declaration (Default, if any)."""
    text = (DEPLOY / TEMPLATES[template].file).read_text()
    document = yaml.load(text, Loader=_ParametersLoader)  # noqa: S506 (a SafeLoader)
    return document.get("Parameters", {})


@dataclass(frozen=True)
class Parameter:
    key: str
    value: str
    source: str  # given, derived, previous or default

    def request(self) -> dict[str, Any] | None:
        if self.source == "previous":
            return {"ParameterKey": self.key, "UsePreviousValue": True}
        if self.source == "default":
            return None  # CloudFormation applies the template's default
        return {"ParameterKey": self.key, "ParameterValue": self.value}


def _derived(stage: str, template: str, existing: bool) -> dict[str, str]:
    """Values the tool knows itself. Key material only on a stack's creation: afterwards the
    keys change only through `keys rotate`, never because a file is (or is not) on this machine."""
    values = {"Stage": stage}
    if template in ("edge", "monitoring", "database"):
        values["CoreStackName"] = stack_name(stage, "core")
    if template == "edge" and not existing:
        values["CloudFrontPublicKey"] = keys.public_key_path(stage).read_text()
    if template == "monitoring":
        # Found on every apply: a stage deployed again (zappa undeploy, deploy) has a new API.
        found = http_api.find_api_id(stage)
        if found is not None:
            values["ApiId"] = found
    if template == "cdn-alarms" and not existing:
        values["DistributionId"] = stack_outputs(stage, "edge")["DistributionId"]
    return values


def resolve_parameters(
    stage: str, template: str, given: dict[str, str], previous: dict[str, str] | None
) -> list[Parameter]:
    """Every parameter of the template with its value and where it comes from: given on the
    command line, derived by the tool, the stack's previous value (an update keeps what it is
    not told), or the template's default. A required parameter with none of these stops here."""
    declared = template_parameters(template)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise SystemExit(f"{template} has no parameter {', '.join(unknown)}")
    derived = _derived(stage, template, previous is not None)
    resolved = []
    missing = []
    for key, declaration in declared.items():
        if key in given:
            resolved.append(Parameter(key, given[key], "given"))
        elif key in derived:
            resolved.append(Parameter(key, derived[key], "derived"))
        elif previous is not None and key in previous:
            resolved.append(Parameter(key, previous[key], "previous"))
        elif "Default" in declaration:
            resolved.append(Parameter(key, str(declaration["Default"]), "default"))
        else:
            missing.append(key)
    if missing:
        raise SystemExit(
            f"stack {stack_name(stage, template)} needs "
            + " ".join(f"--param {key}=..." for key in missing)
        )
    return resolved


def creation_parameters(stage: str, template: str, given: dict[str, str]) -> list[dict[str, Any]]:
    """The request's Parameters for a new stack."""
    return [
        request
        for p in resolve_parameters(stage, template, given, None)
        if (request := p.request()) is not None
    ]


def _shown(value: str) -> str:
    if "-----BEGIN" in value:
        digest = hashlib.sha256(value.strip().encode()).hexdigest()[:16]
        return f"<PEM public key sha256:{digest}>"
    return value


def _existing_stack(client: Any, name: str, *, replace_failed: bool) -> dict[str, Any] | None:
    try:
        stacks = client.describe_stacks(StackName=name)["Stacks"]
    except client.exceptions.ClientError:
        return None
    if stacks and stacks[0]["StackStatus"] == "REVIEW_IN_PROGRESS":
        # An earlier plan that was never applied: an empty stack holding only change sets.
        client.delete_stack(StackName=name)
        return None
    if stacks and stacks[0]["StackStatus"] == "ROLLBACK_COMPLETE":
        # A failed first create: CloudFormation accepts only a delete for it.
        if not replace_failed:
            stack_events.say_failures(client, name)
            raise SystemExit(
                f"stack {name} is ROLLBACK_COMPLETE (its first create failed): "
                "`stack apply` deletes it and creates it anew"
            )
        stack_events.clear_failed_create(client, name)
        return None
    return stacks[0] if stacks else None


def _say_parameters(
    stage: str, template: str, resolved: list[Parameter], previous: dict[str, str] | None
) -> None:
    for parameter in resolved:
        say(f"  {parameter.key:<24} {_shown(parameter.value):<48} ({parameter.source})")
    if template == "edge" and previous is not None:
        local = keys.public_key_path(stage)
        stacked = previous.get("CloudFrontPublicKey", "").strip()
        if local.exists() and local.read_text().strip() != stacked:
            say(
                f"  note: {local.relative_to(ROOT) if local.is_relative_to(ROOT) else local} "
                "is not the stack's key; the stack keeps its keys (change them with "
                "`python -m deploy keys rotate`)"
            )


def _described_change_set(client: Any, name: str, change_set: str) -> dict[str, Any]:
    """The change set once CloudFormation has finished computing it."""
    for _ in range(150):
        described = client.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        time.sleep(2)
    raise SystemExit(f"change set {change_set} did not finish: {described['Status']}")


def _say_changes(name: str, change_set: str, described: dict[str, Any]) -> list[dict[str, Any]]:
    changes = [c["ResourceChange"] for c in described.get("Changes", [])]
    say(f"change set {change_set} for stack {name}: {described['Status']}")
    if described["Status"] == "FAILED":
        say(f"  {described.get('StatusReason', '')}")
    for change in changes:
        say(
            f"  {change.get('Action', '?'):<8} {change.get('LogicalResourceId', ''):<28} "
            f"{change.get('ResourceType', '')}"
            + (f"  (replacement: {change['Replacement']})" if change.get("Replacement") else "")
        )
    return changes


def stack_plan(
    stage: str, template: str, parameters: dict[str, str], *, replace_failed: bool = False
) -> dict[str, Any]:
    """A change set, described: what apply would do. Nothing is changed yet, except that a
    stack whose first create failed is deleted when ``replace_failed`` (apply's plan)."""
    client = cloudformation(template)
    name = stack_name(stage, template)
    existing = _existing_stack(client, name, replace_failed=replace_failed)
    previous = (
        {p["ParameterKey"]: p.get("ParameterValue", "") for p in existing.get("Parameters", [])}
        if existing
        else None
    )
    resolved = resolve_parameters(stage, template, parameters, previous)
    say(f"stack {name} ({'update' if existing else 'create'}), parameters:")
    _say_parameters(stage, template, resolved, previous)
    plan: dict[str, Any] = {"stack": name, "parameters": resolved}
    change_set = f"voj-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    try:
        client.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType="UPDATE" if existing else "CREATE",
            TemplateBody=(DEPLOY / TEMPLATES[template].file).read_text(),
            Parameters=[r for p in resolved if (r := p.request()) is not None],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    except client.exceptions.ClientError as error:
        # CloudFormation marks an empty change set FAILED; some endpoints refuse it outright.
        if "No updates are to be performed" not in str(error):
            raise
        say(f"stack {name}: no changes")
        return {**plan, "change_set": None, "status": "UNCHANGED", "changes": []}
    described = _described_change_set(client, name, change_set)
    changes = _say_changes(name, change_set, described)
    return {**plan, "change_set": change_set, "status": described["Status"], "changes": changes}


def stack_apply(stage: str, template: str, parameters: dict[str, str], *, yes: bool) -> str:
    """Plan, ask (unless ``yes``), execute and wait: the stack's final status."""
    plan = stack_plan(stage, template, parameters, replace_failed=True)
    client = cloudformation(template)
    if plan["status"] in ("FAILED", "UNCHANGED"):
        if plan["change_set"]:
            client.delete_change_set(StackName=plan["stack"], ChangeSetName=plan["change_set"])
        say("nothing to apply")
        return "UNCHANGED"
    if not yes and input("execute this change set? [y/N] ").strip().lower() != "y":
        say("not applied; the change set is left for review")
        return "NOT_APPLIED"
    client.execute_change_set(StackName=plan["stack"], ChangeSetName=plan["change_set"])
    status, reason = "TIMED_OUT", ""
    for _ in range(360):  # 30 minutes: CloudFront distributions take a while
        current = client.describe_stacks(StackName=plan["stack"])["Stacks"][0]
        if not current["StackStatus"].endswith("_IN_PROGRESS"):
            status, reason = current["StackStatus"], current.get("StackStatusReason", "")
            break
        time.sleep(5)
    say(f"stack {plan['stack']}: {status}" + (f" ({reason})" if reason else ""))
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        stack_events.say_failures(client, plan["stack"])
        raise SystemExit(1)
    return status


# A stack in one of these states runs what its last successful operation made.
USABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}


class StackNotReady(SystemExit):
    """The stack is missing, failed, still changing, or has no outputs; the message says which."""


def stack_outputs(stage: str, template: str) -> dict[str, str]:
    """The stack's outputs: name -> value. StackNotReady unless it has some to give."""
    client = cloudformation(template)
    name = stack_name(stage, template)
    try:
        stack = client.describe_stacks(StackName=name)["Stacks"][0]
    except client.exceptions.ClientError as error:
        raise StackNotReady(f"stack {name} does not exist ({error})") from None
    if stack["StackStatus"] not in USABLE:
        raise StackNotReady(f"stack {name} is {stack['StackStatus']}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if not outputs:
        raise StackNotReady(f"stack {name} ({stack['StackStatus']}) has no outputs")
    return outputs
