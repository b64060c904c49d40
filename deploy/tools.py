"""Deploy tools: keys, secrets, stacks through change sets, and Zappa's environment.

    python -m deploy keys create STAGE [--rotate]
    python -m deploy secrets put STAGE [--rotate NAME]
    python -m deploy stack plan|apply STAGE --template core|edge|monitoring|cdn-alarms|database
    python -m deploy configure STAGE
    python -m deploy opsdb export|import STAGE ...   (deploy/opsdb_transfer.py)

Every command is idempotent: run again, it changes nothing that is already in place.
AWS credentials come from the usual places (profile, environment); VOJ_AWS_ENDPOINT_URL points
them at a moto server for the tests.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voj.aws import build_client

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KEYS = DEPLOY / "keys"
REGION = os.environ.get("VOJ_AWS_REGION", "ap-northeast-2")
STAGES = ("dev", "prod")
SECRET_NAMES = ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "OPERATOR_PASSWORD")
CLOUDFRONT_KEY = "CLOUDFRONT_PRIVATE_KEY"


def client(service: str, region: str = REGION) -> Any:
    return build_client(service, region=region, endpoint_url=os.environ.get("VOJ_AWS_ENDPOINT_URL"))


def secrets_path(stage: str) -> str:
    return f"/voj/{stage}/"


def _say(message: str) -> None:
    print(message, flush=True)


# --- SSM ---------------------------------------------------------------------------------------


def _parameter(stage: str, name: str) -> str | None:
    ssm = client("ssm")
    try:
        return ssm.get_parameter(Name=secrets_path(stage) + name, WithDecryption=True)["Parameter"][
            "Value"
        ]
    except ssm.exceptions.ParameterNotFound:
        return None


def _put(stage: str, name: str, value: str, *, overwrite: bool) -> None:
    client("ssm").put_parameter(
        Name=secrets_path(stage) + name,
        Value=value,
        Type="SecureString",
        Overwrite=overwrite,
        Description=f"voj {stage}: {name}",
    )


def secrets_put(stage: str, *, rotate: str | None = None) -> list[str]:
    """Create the missing secrets (or replace one with --rotate). Values are never printed."""
    written = []
    for name in SECRET_NAMES:
        exists = _parameter(stage, name) is not None
        if exists and rotate != name:
            continue
        _put(stage, name, secrets.token_urlsafe(48), overwrite=exists)
        written.append(name)
    _say(
        f"secrets under {secrets_path(stage)}: "
        f"{', '.join(written) + ' written' if written else 'all present, nothing changed'}"
    )
    return written


# --- the CloudFront key pair ---------------------------------------------------------------------


def public_key_path(stage: str, *, slot: str = "") -> Path:
    return KEYS / f"{stage}-cloudfront{slot}.pub.pem"


def keys_create(stage: str, *, rotate: bool = False) -> Path:
    """The signing key pair, made here: the private key goes only to SSM, the public key to a
    file the edge stack takes. With --rotate a second key is made for a rotation without
    downtime (docs/runbook.md)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    name = CLOUDFRONT_KEY + ("_NEXT" if rotate else "")
    pem = _parameter(stage, name)
    if pem is None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        _put(stage, name, pem, overwrite=False)
        _say(f"new CloudFront key stored as {secrets_path(stage)}{name}")
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = public_key_path(stage, slot="-next" if rotate else "")
    KEYS.mkdir(exist_ok=True)
    path.write_bytes(public)
    _say(f"public key: {path}")
    return path


# --- stacks ------------------------------------------------------------------------------------


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


def _parameters(stage: str, template: str, given: dict[str, str]) -> list[dict[str, str]]:
    values = {"Stage": stage, **given}
    if template in ("edge", "monitoring", "database"):
        values.setdefault("CoreStackName", stack_name(stage, "core"))
    if template == "edge":
        values.setdefault("CloudFrontPublicKey", public_key_path(stage).read_text())
        next_key = public_key_path(stage, slot="-next")
        if next_key.exists():
            values.setdefault("CloudFrontPublicKeyNext", next_key.read_text())
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _stack_exists(cloudformation: Any, name: str) -> bool:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError:
        return False
    if stacks and stacks[0]["StackStatus"] == "REVIEW_IN_PROGRESS":
        # An earlier plan that was never applied: an empty stack holding only change sets.
        cloudformation.delete_stack(StackName=name)
        return False
    return bool(stacks)


def stack_plan(stage: str, template: str, parameters: dict[str, str]) -> dict[str, Any]:
    """A change set, described: what apply would do. Nothing is changed yet."""
    spec = TEMPLATES[template]
    cloudformation = client("cloudformation", spec.region or REGION)
    name = stack_name(stage, template)
    change_set = f"voj-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    try:
        cloudformation.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType="UPDATE" if _stack_exists(cloudformation, name) else "CREATE",
            TemplateBody=(DEPLOY / spec.file).read_text(),
            Parameters=_parameters(stage, template, parameters),
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    except cloudformation.exceptions.ClientError as error:
        # CloudFormation marks an empty change set FAILED; some endpoints refuse it outright.
        if "No updates are to be performed" not in str(error):
            raise
        _say(f"stack {name}: no changes")
        return {"stack": name, "change_set": None, "status": "UNCHANGED", "changes": []}
    for _ in range(150):
        described = cloudformation.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(2)
    else:
        raise SystemExit(f"change set {change_set} did not finish: {described['Status']}")
    changes = [c["ResourceChange"] for c in described.get("Changes", [])]
    _say(f"change set {change_set} for stack {name}: {described['Status']}")
    if described["Status"] == "FAILED":
        _say(f"  {described.get('StatusReason', '')}")
    for change in changes:
        _say(
            f"  {change.get('Action', '?'):<8} {change.get('LogicalResourceId', ''):<28} "
            f"{change.get('ResourceType', '')}"
            + (f"  (replacement: {change['Replacement']})" if change.get("Replacement") else "")
        )
    return {
        "stack": name,
        "change_set": change_set,
        "status": described["Status"],
        "changes": changes,
    }


def stack_apply(stage: str, template: str, parameters: dict[str, str], *, yes: bool) -> str:
    plan = stack_plan(stage, template, parameters)
    spec = TEMPLATES[template]
    cloudformation = client("cloudformation", spec.region or REGION)
    if plan["status"] in ("FAILED", "UNCHANGED"):
        if plan["change_set"]:
            cloudformation.delete_change_set(
                StackName=plan["stack"], ChangeSetName=plan["change_set"]
            )
        _say("nothing to apply")
        return "UNCHANGED"
    if not yes and input("execute this change set? [y/N] ").strip().lower() != "y":
        _say("not applied; the change set is left for review")
        return "NOT_APPLIED"
    cloudformation.execute_change_set(StackName=plan["stack"], ChangeSetName=plan["change_set"])
    status = "TIMED_OUT"
    for _ in range(360):  # 30 minutes: CloudFront distributions take a while
        current = cloudformation.describe_stacks(StackName=plan["stack"])["Stacks"][0][
            "StackStatus"
        ]
        if not current.endswith("_IN_PROGRESS"):
            status = current
            break
        time.sleep(5)
    _say(f"stack {plan['stack']}: {status}")
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise SystemExit(1)
    return status


def stack_outputs(stage: str, template: str) -> dict[str, str]:
    spec = TEMPLATES[template]
    cloudformation = client("cloudformation", spec.region or REGION)
    stack = cloudformation.describe_stacks(StackName=stack_name(stage, template))["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# --- zappa_settings.json ---------------------------------------------------------------------


def configure(stage: str, settings_file: Path = ROOT / "zappa_settings.json") -> dict[str, str]:
    """Fill the stage's resource names from the stack outputs. Names only, never a secret."""
    core = stack_outputs(stage, "core")
    names = {
        "VOJ_MEDIA_BUCKET": core["MediaBucketName"],
        "VOJ_BOOKS_TABLE": core["BooksTableName"],
        "VOJ_CHAPTERS_TABLE": core["ChaptersTableName"],
        "VOJ_SECRETS": core["SecretsPath"],
    }
    try:
        edge = stack_outputs(stage, "edge")
    except Exception:  # no edge stack yet: playback uses S3 presigned URLs meanwhile
        edge = {}
    if edge:
        names |= {
            "VOJ_CDN_DOMAIN": edge["DistributionDomain"],
            "VOJ_CDN_KEY_ID": edge["SigningKeyId"],
            "VOJ_CDN_DISTRIBUTION_ID": edge["DistributionId"],
        }
    document = json.loads(settings_file.read_text())
    document[stage].setdefault("environment_variables", {}).update(names)
    settings_file.write_text(json.dumps(document, indent=4, ensure_ascii=False) + "\n")
    _say(f"{settings_file.name} [{stage}]: " + ", ".join(f"{k}={v}" for k, v in names.items()))
    return names


def main(argv: list[str] | None = None) -> None:
    import argparse

    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["opsdb"] and given[1:2] in (["export"], ["import"]):
        from deploy.opsdb_transfer import main as opsdb_transfer

        opsdb_transfer(given[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="group", required=True)
    keys = sub.add_parser("keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="the CloudFront signing key pair")
    create.add_argument("stage", choices=STAGES)
    create.add_argument("--rotate", action="store_true", help="make the next key for a rotation")
    put = sub.add_parser("secrets").add_subparsers(dest="action", required=True).add_parser("put")
    put.add_argument("stage", choices=STAGES)
    put.add_argument("--rotate", choices=SECRET_NAMES)
    stack = sub.add_parser("stack")
    stack.add_argument("action", choices=("plan", "apply"))
    stack.add_argument("stage", choices=STAGES)
    stack.add_argument("--template", choices=sorted(TEMPLATES), default="core")
    stack.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    stack.add_argument("--yes", action="store_true", help="execute without asking")
    conf = sub.add_parser("configure", help="write stack outputs into zappa_settings.json")
    conf.add_argument("stage", choices=STAGES)
    args = parser.parse_args(argv)

    if args.group == "keys":
        keys_create(args.stage, rotate=args.rotate)
    elif args.group == "secrets":
        secrets_put(args.stage, rotate=args.rotate)
    elif args.group == "stack":
        given = dict(p.split("=", 1) for p in args.param)
        if args.action == "plan":
            stack_plan(args.stage, args.template, given)
        else:
            stack_apply(args.stage, args.template, given, yes=args.yes)
    elif args.group == "configure":
        configure(args.stage)


if __name__ == "__main__":
    main(sys.argv[1:])
