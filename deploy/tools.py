"""Deploy tools: keys, secrets, stacks through change sets, and Zappa's environment.

    python -m deploy keys create STAGE
    python -m deploy keys rotate STAGE [--step add|switch|retire] [--yes] [--force]
    python -m deploy secrets put STAGE [--rotate NAME]
    python -m deploy secrets show STAGE NAME
    python -m deploy stack plan|apply STAGE [--yes]
        --template core|edge|monitoring|cdn-alarms|database
    python -m deploy opsdb versions|restore STAGE [--version-id ID]
    python -m deploy opsdb export|import STAGE ...   (deploy/opsdb_transfer.py)
    python -m deploy release STAGE [--base-url URL] [--no-smoke]
    python -m deploy configure STAGE
    python -m deploy throttle STAGE [--rate 100] [--burst 200]

Run again, `secrets put`, `keys create`, `stack plan|apply` and `configure` change nothing that is
already in place; `keys rotate` and `release` say at each step what state the stage is in and
what to run next. AWS credentials come from the usual places (profile, environment; the least
privilege is deploy/deployer-policy.json); VOJ_AWS_ENDPOINT_URL points them at a moto server
for the tests.
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


# Secrets whose value the operator gives (the rest are generated): asked for at the terminal or
# read from standard input, never taken from the command line, where shell history keeps it.
GIVEN_SECRET_NAMES = ("DATABASE_URL",)


def secrets_set(stage: str, name: str, value: str) -> None:
    """Store a given secret under the stage's path (replacing it). The value is never printed."""
    value = value.strip()
    if not value:
        raise SystemExit(f"no value given for {name}: nothing written")
    _put(stage, name, value, overwrite=True)
    _say(f"{secrets_path(stage)}{name} written")


def _read_secret(name: str) -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"{name}: ")
    return sys.stdin.read()


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
    file the edge stack takes at its creation. A rotation makes its keys itself
    (`keys rotate`, deploy/rotation.py)."""
    from deploy.cdn_keys import new_private_pem, public_pem

    name = CLOUDFRONT_KEY + ("_NEXT" if rotate else "")
    pem = _parameter(stage, name)
    if pem is None:
        pem = new_private_pem()
        _put(stage, name, pem, overwrite=False)
        _say(f"new CloudFront key stored as {secrets_path(stage)}{name}")
    public = public_pem(pem).encode()
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


def template_parameters(template: str) -> dict[str, dict[str, Any]]:
    """The template's Parameters section: name -> its declaration (Default, if any)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # CloudFormation's short forms (!Ref, !Sub, ...) matter nowhere in Parameters.
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    document = yaml.load((DEPLOY / TEMPLATES[template].file).read_text(), Loader=Loader)  # noqa: S506
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
        values["CloudFrontPublicKey"] = public_key_path(stage).read_text()
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


def _parameters(stage: str, template: str, given: dict[str, str]) -> list[dict[str, Any]]:
    """The request's Parameters for a new stack."""
    return [
        request
        for p in resolve_parameters(stage, template, given, None)
        if (request := p.request()) is not None
    ]


def _shown(value: str) -> str:
    if "-----BEGIN" in value:
        import hashlib

        digest = hashlib.sha256(value.strip().encode()).hexdigest()[:16]
        return f"<PEM public key sha256:{digest}>"
    return value


def _existing_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError:
        return None
    if stacks and stacks[0]["StackStatus"] == "REVIEW_IN_PROGRESS":
        # An earlier plan that was never applied: an empty stack holding only change sets.
        cloudformation.delete_stack(StackName=name)
        return None
    return stacks[0] if stacks else None


def stack_plan(stage: str, template: str, parameters: dict[str, str]) -> dict[str, Any]:
    """A change set, described: what apply would do. Nothing is changed yet."""
    spec = TEMPLATES[template]
    cloudformation = client("cloudformation", spec.region or REGION)
    name = stack_name(stage, template)
    existing = _existing_stack(cloudformation, name)
    previous = (
        {p["ParameterKey"]: p.get("ParameterValue", "") for p in existing.get("Parameters", [])}
        if existing
        else None
    )
    resolved = resolve_parameters(stage, template, parameters, previous)
    _say(f"stack {name} ({'update' if existing else 'create'}), parameters:")
    for parameter in resolved:
        _say(f"  {parameter.key:<24} {_shown(parameter.value):<48} ({parameter.source})")
    if template == "edge" and previous is not None:
        local = public_key_path(stage)
        stacked = previous.get("CloudFrontPublicKey", "").strip()
        if local.exists() and local.read_text().strip() != stacked:
            _say(
                f"  note: {local.relative_to(ROOT) if local.is_relative_to(ROOT) else local} "
                "is not the stack's key; the stack keeps its keys (change them with "
                "`python -m deploy keys rotate`)"
            )
    change_set = f"voj-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    try:
        cloudformation.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType="UPDATE" if existing else "CREATE",
            TemplateBody=(DEPLOY / spec.file).read_text(),
            Parameters=[r for p in resolved if (r := p.request()) is not None],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    except cloudformation.exceptions.ClientError as error:
        # CloudFormation marks an empty change set FAILED; some endpoints refuse it outright.
        if "No updates are to be performed" not in str(error):
            raise
        _say(f"stack {name}: no changes")
        return {
            "stack": name,
            "change_set": None,
            "status": "UNCHANGED",
            "changes": [],
            "parameters": resolved,
        }
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
        "parameters": resolved,
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
        "VOJ_SECURITY_TABLE": core["SecurityTableName"],
        "VOJ_SECRETS": core["SecretsPath"],
    }
    try:
        edge = stack_outputs(stage, "edge")
    except Exception:  # no edge stack yet: playback uses S3 presigned URLs meanwhile
        edge = {}
    document = json.loads(settings_file.read_text())
    if edge:
        # The key id of the slot this stage signs with (keys rotate may have switched to b).
        signing = document[stage].get("environment_variables", {}).get("VOJ_CDN_PRIVATE_KEY_NAME")
        names |= {
            "VOJ_CDN_DOMAIN": edge["DistributionDomain"],
            "VOJ_CDN_KEY_ID": edge[
                "SigningKeyNextId" if signing == CLOUDFRONT_KEY + "_NEXT" else "SigningKeyId"
            ],
            "VOJ_CDN_DISTRIBUTION_ID": edge["DistributionId"],
        }
    if "ZappaBucketName" in core:
        document[stage]["s3_bucket"] = core["ZappaBucketName"]
    document[stage].setdefault("environment_variables", {}).update(names)
    settings_file.write_text(json.dumps(document, indent=4, ensure_ascii=False) + "\n")
    _say(f"{settings_file.name} [{stage}]: " + ", ".join(f"{k}={v}" for k, v in names.items()))
    return names


# --- API Gateway stage throttling ------------------------------------------------------------

# Steady requests per second and burst for the whole stage. Far above what the service needs,
# far below the account's shared 10,000 rps: a flood is refused at the gateway with 429 before
# it costs a Lambda invocation, and other APIs in the account keep their share.
THROTTLE_RATE = 100.0
THROTTLE_BURST = 200


def stage_throttle(stage: str, *, rate: float = THROTTLE_RATE, burst: int = THROTTLE_BURST) -> dict:
    """Apply stage-wide throttling to Zappa's REST API. Zappa has no setting for it, so this
    runs after `zappa deploy` / `zappa update` (idempotent)."""
    apigateway = client("apigateway")
    name = f"voj-{stage}"  # Zappa names the API after the function: {project_name}-{stage}
    apis = [api for api in apigateway.get_rest_apis(limit=500)["items"] if api["name"] == name]
    if len(apis) != 1:
        raise SystemExit(f"expected one REST API named {name}, found {len(apis)}: deploy first")
    updated = apigateway.update_stage(
        restApiId=apis[0]["id"],
        stageName=stage,
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(float(rate))},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(int(burst))},
        ],
    )
    settings = updated["methodSettings"]["*/*"]
    _say(
        f"API {name} stage {stage}: {settings['throttlingRateLimit']} requests/s, "
        f"burst {settings['throttlingBurstLimit']}"
    )
    return settings


def build_parser() -> Any:
    import argparse

    from deploy import opsdb_transfer

    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="group", required=True)
    keys = sub.add_parser("keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="the CloudFront signing key pair")
    create.add_argument("stage", choices=STAGES)
    rotate = keys.add_parser("rotate", help="rotate the signing key (deploy/rotation.py)")
    rotate.add_argument("stage", choices=STAGES)
    rotate.add_argument("--step", choices=("status", "add", "switch", "retire"), default="status")
    rotate.add_argument("--yes", action="store_true", help="apply the edge change without asking")
    rotate.add_argument("--force", action="store_true", help="retire before old URLs expire")
    secret_actions = sub.add_parser("secrets").add_subparsers(dest="action", required=True)
    put = secret_actions.add_parser("put")
    put.add_argument("stage", choices=STAGES)
    put.add_argument("--rotate", choices=SECRET_NAMES)
    given = secret_actions.add_parser("set", help="store a secret you give (asked for, or stdin)")
    given.add_argument("stage", choices=STAGES)
    given.add_argument("name", choices=GIVEN_SECRET_NAMES)
    show = secret_actions.add_parser("show", help="print one secret to this terminal only")
    show.add_argument("stage", choices=STAGES)
    show.add_argument("name", choices=("OPERATOR_PASSWORD",))
    stack = sub.add_parser("stack")
    stack.add_argument("action", choices=("plan", "apply"))
    stack.add_argument("stage", choices=STAGES)
    stack.add_argument("--template", choices=sorted(TEMPLATES), default="core")
    stack.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    stack.add_argument("--yes", action="store_true", help="execute without asking")
    opsdb = sub.add_parser("opsdb", help="the operator database's stored versions")
    opsdb_actions = opsdb.add_subparsers(dest="action", required=True)
    opsdb_actions.add_parser("versions").add_argument("stage", choices=STAGES)
    restore = opsdb_actions.add_parser("restore")
    restore.add_argument("stage", choices=STAGES)
    restore.add_argument("--version-id", required=True)
    restore.add_argument("--yes", action="store_true", help="restore without asking")
    opsdb_transfer.add_parsers(opsdb_actions, STAGES)
    rel = sub.add_parser("release", help="package check, migrate, zappa update, health, smoke")
    rel.add_argument("stage", choices=STAGES)
    rel.add_argument("--base-url", help="the API's URL (default: the stage's execute-api URL)")
    rel.add_argument("--no-smoke", action="store_true", help="skip the smoke test")
    conf = sub.add_parser("configure", help="write stack outputs into zappa_settings.json")
    conf.add_argument("stage", choices=STAGES)
    throttle = sub.add_parser("throttle", help="API Gateway stage throttling (after zappa deploy)")
    throttle.add_argument("stage", choices=STAGES)
    throttle.add_argument("--rate", type=float, default=THROTTLE_RATE, help="requests per second")
    throttle.add_argument("--burst", type=int, default=THROTTLE_BURST)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    if args.group == "keys" and args.action == "rotate":
        from deploy import rotation

        if args.step == "status":
            rotation.status(args.stage)
        elif args.step == "add":
            rotation.add(args.stage, yes=args.yes)
        elif args.step == "switch":
            rotation.switch(args.stage)
        else:
            rotation.retire(args.stage, yes=args.yes, force=args.force)
    elif args.group == "keys":
        keys_create(args.stage)
    elif args.group == "secrets" and args.action == "set":
        secrets_set(args.stage, args.name, _read_secret(args.name))
    elif args.group == "secrets" and args.action == "show":
        if not sys.stdout.isatty():  # never into a pipe, a file or a CI log
            raise SystemExit("secrets show prints to a terminal only")
        value = _parameter(args.stage, args.name)
        if value is None:
            raise SystemExit(f"no {secrets_path(args.stage)}{args.name}: run `secrets put` first")
        print(value)
    elif args.group == "secrets":
        secrets_put(args.stage, rotate=args.rotate)
    elif args.group == "stack":
        given = dict(p.split("=", 1) for p in args.param)
        if args.action == "plan":
            stack_plan(args.stage, args.template, given)
        else:
            stack_apply(args.stage, args.template, given, yes=args.yes)
    elif args.group == "opsdb":
        from deploy import opsdb as operator_database

        if args.action == "versions":
            operator_database.versions(args.stage)
        elif args.action in ("export", "import"):
            from deploy import opsdb_transfer

            opsdb_transfer.run(args)
        else:
            operator_database.restore(args.stage, args.version_id, yes=args.yes)
    elif args.group == "release":
        from deploy.release import release

        release(args.stage, base_url=args.base_url, run_smoke=not args.no_smoke)
    elif args.group == "configure":
        configure(args.stage)
    elif args.group == "throttle":
        stage_throttle(args.stage, rate=args.rate, burst=args.burst)


if __name__ == "__main__":
    main(sys.argv[1:])
