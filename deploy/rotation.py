"""Rotating the CloudFront signing key without breaking a URL already handed out.

    python -m deploy keys rotate STAGE                  # where the rotation stands, what is next
    python -m deploy keys rotate STAGE --step add       # a new key, trusted beside the old one
    python -m deploy keys rotate STAGE --step switch    # sign with it (then release)
    python -m deploy keys rotate STAGE --step retire    # after the old URLs expired: untrust it

The edge stack's key group has two slots, a and b. Between rotations one slot holds the key that
signs; `add` puts a new key in the other (its generation raised: a CloudFront key is immutable,
so a new one is a new resource with a new name). `switch` writes the new slot's key id and the
name of its private key's secret into zappa_settings.json: the next release changes both in one
function update, so no container signs with one key under the other's id. `retire` removes the
old key from the key group once the deployed function signs with the new one and the longest
stream URL signed before the switch has expired (VOJ_STREAM_URL_MAX_SECONDS, 12 hours), or at
once with --force when the old key is compromised.

No step changes the key that signs by omission: stack updates keep the keys they are not given
(deploy/stacks.py), `add` only fills an empty slot, and `retire` only empties the slot that the
deployed function does not sign with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deploy import keys, shared, stacks
from deploy.cdn_keys import new_private_pem, public_pem
from deploy.configure import stage_settings
from deploy.shared import ROOT, say
from deploy.stage_secrets import CLOUDFRONT_KEY, parameter, put_parameter, secrets_path

DEFAULT_MAX_URL_SECONDS = 12 * 60 * 60  # VOJ_STREAM_URL_MAX_SECONDS' default


@dataclass(frozen=True)
class Slot:
    name: str
    key_parameter: str
    generation_parameter: str
    secret: str  # the SSM parameter holding its private key
    logical_id: str
    file_slot: str


SLOTS = {
    "a": Slot("a", "CloudFrontPublicKey", "KeyGeneration", CLOUDFRONT_KEY, "SigningKey", ""),
    "b": Slot(
        "b",
        "CloudFrontPublicKeyNext",
        "NextKeyGeneration",
        CLOUDFRONT_KEY + "_NEXT",
        "SigningKeyNext",
        "-next",
    ),
}


def other(slot: Slot) -> Slot:
    return SLOTS["b" if slot.name == "a" else "a"]


@dataclass(frozen=True)
class State:
    parameters: dict[str, str]
    trusted: list[str]  # slot names holding a key
    signing: Slot  # the slot zappa_settings.json signs with


def _settings_env(stage: str, settings_file: Path) -> dict[str, str]:
    return stage_settings(stage, settings_file).get("environment_variables", {})


def _signing_slot(env: dict[str, str]) -> Slot:
    name = env.get("VOJ_CDN_PRIVATE_KEY_NAME") or CLOUDFRONT_KEY
    found = [slot for slot in SLOTS.values() if slot.secret == name]
    if not found:
        raise SystemExit(f"VOJ_CDN_PRIVATE_KEY_NAME={name} names no key slot")
    return found[0]


def state(stage: str, settings_file: Path) -> State:
    cloudformation = shared.client("cloudformation")
    name = stacks.stack_name(stage, "edge")
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except cloudformation.exceptions.ClientError as error:
        raise SystemExit(f"no stack {name}: create the edge stack first") from error
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack["Parameters"]}
    trusted = [s.name for s in SLOTS.values() if parameters.get(s.key_parameter, "").strip()]
    return State(parameters, trusted, _signing_slot(_settings_env(stage, settings_file)))


def key_name(stage: str, slot: Slot, generation: str) -> str:
    """The public key's name in CloudFront, as deploy/edge.yaml names it."""
    return f"voj-{stage}-signing-{slot.name}{generation}"


def key_id(stage: str, slot: Slot, parameters: dict[str, str] | None = None) -> str:
    """The CloudFront id of the slot's public key (what a URL's Key-Pair-Id names)."""
    if parameters is None:
        stack = shared.client("cloudformation").describe_stacks(
            StackName=stacks.stack_name(stage, "edge")
        )["Stacks"][0]
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack["Parameters"]}
    name = key_name(stage, slot, parameters.get(slot.generation_parameter) or "1")
    cloudfront = shared.client("cloudfront")
    marker = None
    while True:
        page = cloudfront.list_public_keys(**({"Marker": marker} if marker else {}))
        listed = page["PublicKeyList"]
        for item in listed.get("Items", []):
            if item["Name"] == name:
                return item["Id"]
        marker = listed.get("NextMarker")
        if not marker:
            raise SystemExit(f"no CloudFront public key {name}: apply the edge stack first")


def newest(stage: str, current: State) -> Slot:
    """The slot whose private key was made last: the one to sign with."""
    ssm = shared.client("ssm")
    made = {}
    for name in current.trusted:
        slot = SLOTS[name]
        try:
            parameter = ssm.get_parameter(Name=secrets_path(stage) + slot.secret)
        except ssm.exceptions.ParameterNotFound:
            continue
        made[name] = parameter["Parameter"]["LastModifiedDate"]
    if not made:
        raise SystemExit(f"no private key under {secrets_path(stage)}: keys create first")
    return SLOTS[max(made, key=made.__getitem__)]


def status(stage: str, settings_file: Path = ROOT / "zappa_settings.json") -> str:
    current = state(stage, settings_file)
    for slot in SLOTS.values():
        held = slot.name in current.trusted
        say(
            f"slot {slot.name}: {'key, generation ' if held else 'empty'}"
            f"{current.parameters.get(slot.generation_parameter, '1') if held else ''}"
            f"{'  (signs, per zappa_settings.json)' if slot == current.signing else ''}"
        )
    if len(current.trusted) == 1:
        step = "add"
    elif newest(stage, current) != current.signing:
        step = "switch"
    elif not _function_signs_with(stage, current.signing, settings_file):
        step = "release"
        say(f"next: make package STAGE={stage} && python -m deploy release {stage}")
        return step
    else:
        step = "retire"
    say(f"next: python -m deploy keys rotate {stage} --step {step}")
    return step


def _function_signs_with(stage: str, slot: Slot, settings_file: Path) -> bool:
    env = _deployed(stage)["Environment"]["Variables"]
    return _signing_slot(env) == slot and env.get("VOJ_CDN_KEY_ID") == _settings_env(
        stage, settings_file
    ).get("VOJ_CDN_KEY_ID")


def _deployed(stage: str) -> dict[str, Any]:
    lambda_client = shared.client("lambda")
    try:
        return lambda_client.get_function_configuration(FunctionName=f"voj-{stage}")
    except lambda_client.exceptions.ResourceNotFoundException as error:
        raise SystemExit(f"no function voj-{stage}: deploy it first") from error


def add(stage: str, *, yes: bool, settings_file: Path = ROOT / "zappa_settings.json") -> Slot:
    current = state(stage, settings_file)
    if current.signing.name not in current.trusted:
        raise SystemExit(f"slot {current.signing.name} signs but holds no key: fix the edge stack")
    if len(current.trusted) == 2:
        raise SystemExit(
            "both slots hold keys: a rotation is under way "
            f"(python -m deploy keys rotate {stage} shows the next step)"
        )
    free = other(current.signing)
    pem = parameter(stage, free.secret)  # an interrupted add left its key: reuse it
    if pem is None:
        pem = new_private_pem()
        put_parameter(stage, free.secret, pem, overwrite=False)
        say(f"new key stored as {secrets_path(stage)}{free.secret}")
    public = public_pem(pem)
    path = keys.public_key_path(stage, slot=free.file_slot)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(public)
    generation = str(int(current.parameters.get(free.generation_parameter) or "1") + 1)
    result = stacks.stack_apply(
        stage,
        "edge",
        {free.key_parameter: public, free.generation_parameter: generation},
        yes=yes,
    )
    if result == "NOT_APPLIED":
        raise SystemExit("not applied: nothing is trusted yet; run the step again")
    say(f"slot {free.name} trusts the new key; next: keys rotate {stage} --step switch")
    return free


def switch(stage: str, *, settings_file: Path = ROOT / "zappa_settings.json") -> Slot:
    current = state(stage, settings_file)
    new = other(current.signing)
    if new.name not in current.trusted:
        raise SystemExit(f"slot {new.name} holds no key: keys rotate {stage} --step add first")
    if newest(stage, current) != new:
        raise SystemExit(
            f"slot {current.signing.name} already signs with the newest key: "
            f"release, then keys rotate {stage} --step retire"
        )
    document = json.loads(settings_file.read_text())
    env = document[stage].setdefault("environment_variables", {})
    env["VOJ_CDN_KEY_ID"] = key_id(stage, new)
    env["VOJ_CDN_PRIVATE_KEY_NAME"] = new.secret
    settings_file.write_text(json.dumps(document, indent=4, ensure_ascii=False) + "\n")
    say(
        f"{settings_file.name} [{stage}] signs with slot {new.name} "
        f"(VOJ_CDN_KEY_ID={env['VOJ_CDN_KEY_ID']}). Now `make package STAGE={stage}` and "
        f"`python -m deploy release {stage}`; both keys stay trusted, so every URL keeps working"
    )
    return new


def retire(
    stage: str,
    *,
    yes: bool,
    force: bool = False,
    now: datetime | None = None,
    settings_file: Path = ROOT / "zappa_settings.json",
) -> Slot:
    current = state(stage, settings_file)
    old = other(current.signing)
    if old.name not in current.trusted:
        raise SystemExit(f"slot {old.name} holds no key: nothing to retire")
    if newest(stage, current) == old:
        raise SystemExit(
            f"slot {old.name} holds the newest key, not yet signing: "
            f"keys rotate {stage} --step switch first"
        )
    deployed = _deployed(stage)
    if not _function_signs_with(stage, current.signing, settings_file):
        raise SystemExit(
            f"the deployed voj-{stage} does not sign with slot {current.signing.name} yet: "
            f"release first (python -m deploy release {stage})"
        )
    switched = datetime.fromisoformat(deployed["LastModified"].replace("+0000", "+00:00"))
    lifetime = int(
        deployed["Environment"]["Variables"].get("VOJ_STREAM_URL_MAX_SECONDS")
        or DEFAULT_MAX_URL_SECONDS
    )
    age = ((now or datetime.now(UTC)) - switched).total_seconds()
    if age < lifetime and not force:
        raise SystemExit(
            f"URLs signed with slot {old.name}'s key before the switch stay valid for "
            f"{int(lifetime - age)} s more; run this step again then (--force retires it now: "
            "for a compromised key, whose URLs then stop working)"
        )
    result = stacks.stack_apply(stage, "edge", {old.key_parameter: ""}, yes=yes)
    if result == "NOT_APPLIED":
        raise SystemExit("not applied: the old key is still trusted")
    shared.client("ssm").delete_parameter(Name=secrets_path(stage) + old.secret)
    keys.public_key_path(stage, slot=old.file_slot).unlink(missing_ok=True)
    say(f"slot {old.name}'s key retired: no longer trusted, its private key deleted")
    return old
