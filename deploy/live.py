"""What code serves a stage: the function's versions, their code and release, the one API
Gateway invokes, and the way back to an earlier release.

    python -m deploy status STAGE
    python -m deploy rollback STAGE [--to-version N]
    python -m deploy recycle STAGE --reason TEXT

API Gateway invokes the function through a qualifier: with SnapStart (`snap_start` in
zappa_settings.json) Zappa points it at its `snapstart` alias (zappa/cli.py, SNAPSTART_LAMBDA_ALIAS
in zappa/core.py), which each update and rollback moves to the version it published last;
without, at $LATEST. What serves is that qualifier's code, whatever a failed command printed.

A version's code is known by Lambda's CodeSha256 (the zip's SHA-256). The release records, for
each package it ships, its git revision and when, under `releases/STAGE/HASH.json` in the
stage's Zappa package bucket (`s3_bucket`): the code hash survives every publish, rollbacks
included, where a version's description is Zappa's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deploy import shared
from deploy.configure import stage_settings
from deploy.shared import ROOT, say

SNAPSTART_ALIAS = "snapstart"  # zappa/core.py SNAPSTART_LAMBDA_ALIAS
LATEST = "$LATEST"


def settings_path() -> Path:
    """The Zappa settings the release runs `zappa` with (VOJ_ZAPPA_SETTINGS: the drills' copy)."""
    return Path(os.environ.get("VOJ_ZAPPA_SETTINGS", ROOT / "zappa_settings.json"))


def settings(stage: str) -> dict[str, Any]:
    return stage_settings(stage, settings_path())


def function_name(stage: str) -> str:
    """Zappa's name for the stage's function: PROJECT-STAGE."""
    return f"{settings(stage)['project_name']}-{stage}"


def invoked_qualifier(stage: str) -> str:
    """What API Gateway invokes, as Zappa sets it up (zappa/cli.py load_settings)."""
    config = settings(stage)
    if config.get("apigateway_lambda_qualifier"):
        return str(config["apigateway_lambda_qualifier"])
    if config.get("snap_start", "None") not in (None, "None"):
        return SNAPSTART_ALIAS
    return LATEST


def code_sha256(package: Path) -> str:
    """Lambda's CodeSha256 of a zip: its SHA-256, base64."""
    return base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()


def _record_key(stage: str, sha256: str) -> str:
    return f"releases/{stage}/{base64.b64decode(sha256).hex()}.json"


def git_revision(root: Path = ROOT) -> str:
    """HEAD's commit, "+changes" when tracked files differ from it (the package is the tree's)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        ).stdout.strip()

    revision = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return revision + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def record_release(stage: str, package: Path, revision: str | None = None) -> str:
    """Write down which revision this package's code is, before it ships; returns its hash."""
    sha256 = code_sha256(package)
    record = {
        "revision": revision or git_revision(),
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "package": package.name,
    }
    shared.client("s3").put_object(
        Bucket=settings(stage)["s3_bucket"],
        Key=_record_key(stage, sha256),
        Body=json.dumps(record).encode(),
        ContentType="application/json",
    )
    say(f"release record: code {sha256} is revision {record['revision']}")
    return sha256


def _revision(stage: str, sha256: str) -> str:
    s3 = shared.client("s3")
    try:
        body = s3.get_object(Bucket=settings(stage)["s3_bucket"], Key=_record_key(stage, sha256))
    except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
        return "(no release record)"
    return str(json.loads(body["Body"].read())["revision"])


@dataclass(frozen=True)
class Version:
    number: str  # "1", "2", ... or "$LATEST"
    code_sha256: str
    modified: str


@dataclass(frozen=True)
class Live:
    qualifier: str  # the alias API Gateway invokes, or $LATEST
    version: str  # the version behind it
    code_sha256: str


def versions(stage: str) -> list[Version]:
    """Every version of the function, $LATEST first, then the published ones newest first."""
    lambda_client = shared.client("lambda")
    listed: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"FunctionName": function_name(stage)}
    while True:
        page = lambda_client.list_versions_by_function(**kwargs)
        listed += page["Versions"]
        if not page.get("NextMarker"):
            break
        kwargs["Marker"] = page["NextMarker"]
    found = [Version(v["Version"], v["CodeSha256"], v["LastModified"]) for v in listed]
    published = sorted((v for v in found if v.number != LATEST), key=lambda v: -int(v.number))
    return [v for v in found if v.number == LATEST] + published


def live(stage: str) -> Live:
    """The code API Gateway invokes now."""
    qualifier = invoked_qualifier(stage)
    lambda_client = shared.client("lambda")
    version = LATEST
    if qualifier != LATEST:
        alias = lambda_client.get_alias(FunctionName=function_name(stage), Name=qualifier)
        version = alias["FunctionVersion"]
    configuration = lambda_client.get_function_configuration(
        FunctionName=function_name(stage), Qualifier=version
    )
    return Live(qualifier, version, configuration["CodeSha256"])


def status(stage: str) -> list[Version]:
    """`python -m deploy status STAGE`: each version, its code, release and revision."""
    now = live(stage)
    listed = versions(stage)
    say(
        f"{function_name(stage)}: API Gateway invokes {now.qualifier} -> version {now.version} "
        "(marked *)"
    )
    say(f"  {'VERSION':<9}{'CODE (CodeSha256)':<46}{'PUBLISHED':<32}REVISION")
    for version in listed:
        mark = "*" if version.number == now.version else " "
        say(
            f"{mark} {version.number:<9}{version.code_sha256:<46}{version.modified:<32}"
            f"{_revision(stage, version.code_sha256)}"
        )
    try:
        say(
            "the release before: " + rollback_commands(stage, previous_release(listed, now), listed)
        )
    except SystemExit as nothing:
        say(str(nothing))
    return listed


def zappa_rollback_n(listed: list[Version], target: str) -> int:
    """The `-n` of `zappa rollback` that re-deploys version ``target``: its place below the newest
    published version (zappa/core.py rollback_lambda_function_version counts all of them)."""
    published = [v.number for v in listed if v.number != LATEST]
    return published.index(target)


def previous_release(listed: list[Version], now: Live, code: str | None = None) -> Version:
    """The newest published version holding ``code``; by default, the newest below the one that
    serves holding other code than it (the release before)."""
    published = [v for v in listed if v.number != LATEST]
    if code is None:
        below = [v for v in published if now.version == LATEST or int(v.number) < int(now.version)]
        found = [v for v in below if v.code_sha256 != now.code_sha256]
    else:
        found = [v for v in published if v.code_sha256 == code]
    if not found:
        raise SystemExit(
            "no retained version holds the previous release's code: `python -m deploy status "
            "STAGE` lists what is left; release the previous revision's package instead"
        )
    return found[0]


def rollback_commands(stage: str, target: Version, listed: list[Version]) -> str:
    """The commands that make version ``target``'s code serve again."""
    n = zappa_rollback_n(listed, target.number)
    return (
        f"`python -m deploy rollback {stage} --to-version {target.number}` "
        f"(the same code as `zappa rollback {stage} -n {n}`, which publishes it again)"
    )


def zappa_command(*args: str) -> list[str]:
    """`zappa ARGS` on the settings the release uses (`-s`: the drills give their copy)."""
    return [str(ROOT / ".venv-lambda" / "bin" / "zappa"), *args, "-s", str(settings_path())]


def run_zappa(*args: str) -> bool:
    say("$ zappa " + " ".join(args))
    env = {**os.environ, "VIRTUAL_ENV": str(ROOT / ".venv-lambda")}
    return subprocess.run(zappa_command(*args), cwd=ROOT, env=env, check=False).returncode == 0


def rollback(stage: str, to_version: str | None = None) -> Live:
    """`python -m deploy rollback STAGE`: the release before the one that serves (or version
    ``to_version``'s code) serves again, checked by its code hash. Under SnapStart the alias
    moves back to that version (at once, no new version, its snapshot is ready); on $LATEST
    Zappa's rollback uploads that version's code again with the `-n` that reaches it."""
    now, listed = live(stage), versions(stage)
    if to_version is None:
        target = previous_release(listed, now)
    else:
        published = (v for v in listed if v.number == to_version != LATEST)
        target = next(published, None) or _no_version(to_version)
    say(f"rolling back {function_name(stage)}: version {now.version} -> {target.number}")
    if now.qualifier != LATEST:
        shared.client("lambda").update_alias(
            FunctionName=function_name(stage), Name=now.qualifier, FunctionVersion=target.number
        )
    elif not run_zappa("rollback", stage, "-n", str(zappa_rollback_n(listed, target.number))):
        raise SystemExit("zappa rollback failed: `python -m deploy status` shows what serves")
    after = live(stage)
    if after.code_sha256 != target.code_sha256:
        raise SystemExit(
            f"after the rollback {after.qualifier} serves code {after.code_sha256}, not version "
            f"{target.number}'s {target.code_sha256}: `python -m deploy status {stage}`"
        )
    say(f"serves: version {after.version} via {after.qualifier}, code {after.code_sha256}")
    return after


def recycle(stage: str, reason: str) -> Live:
    """`python -m deploy recycle STAGE`: every container and snapshot of the code that serves
    goes, the same code stays. Containers read the secrets once, at start (voj/secrets.py), and a
    SnapStart snapshot keeps what its version read at init: after a secret's rotation only new
    containers of a new version read the new value. A configuration change (the description,
    which says why) makes Lambda start new containers for $LATEST; under SnapStart the version
    published from it is snapshotted anew, and the alias moves to it once it is active."""
    name, lambda_client = function_name(stage), shared.client("lambda")
    now = live(stage)
    latest = lambda_client.get_function_configuration(FunctionName=name)["CodeSha256"]
    if latest != now.code_sha256:
        raise SystemExit(
            f"$LATEST holds other code ({latest}) than what serves ({now.code_sha256}), so a "
            "version published from it would switch code: release (or roll back with `zappa "
            "rollback`) first; `python -m deploy status` shows both"
        )
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    lambda_client.update_function_configuration(
        FunctionName=name, Description=f"voj recycled {stamp}: {reason}"[:256]
    )
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    if now.qualifier != LATEST:
        version = lambda_client.publish_version(FunctionName=name)["Version"]
        # The snapshot is made before the version is active: no restore of the old one after.
        lambda_client.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier=version
        )
        lambda_client.update_alias(FunctionName=name, Name=now.qualifier, FunctionVersion=version)
    after = live(stage)
    say(
        f"recycled {name}: {after.qualifier} -> version {after.version}, the same code "
        f"{after.code_sha256}; containers started before {stamp} receive no more requests"
    )
    return after


def _no_version(number: str) -> Version:
    raise SystemExit(f"no version {number}: `python -m deploy status` lists the retained ones")


def after_failed_update(stage: str, before: Live, package_sha256: str) -> str:
    """What a failed `zappa update` left serving, and the way back: from the function itself,
    since Zappa fails at many points (before or after uploading, publishing, moving the alias)."""
    now, listed = live(stage), versions(stage)
    latest = current_code(listed, LATEST)
    where = f"version {now.version} via {now.qualifier}"
    if now.code_sha256 == package_sha256:
        # The release run again after a failure that left its code serving: what served before
        # this run is the same package, so the previous release is the code before it.
        rerun = before.code_sha256 == package_sha256
        back = previous_release(listed, now, None if rerun else before.code_sha256)
        return (
            f"failed: `zappa update` failed AFTER the new code went live: {where} holds this "
            f"package (code {package_sha256}); the previous release (code "
            f"{back.code_sha256}) no longer serves. The migrations ran. Either fix the cause "
            f"and run the release again, or return to the previous release: "
            f"{rollback_commands(stage, back, listed)}"
        )
    if now.code_sha256 == before.code_sha256:
        uploaded = (
            " (this package is uploaded as $LATEST, not invoked)"
            if latest == (package_sha256) and now.qualifier != LATEST
            else ""
        )
        return (
            f"failed: the previous release still serves: {where}, code {now.code_sha256}"
            f"{uploaded}. The migrations ran (backward compatible). Fix the cause and run the "
            "release again"
        )
    return (
        f"failed: {where} serves code {now.code_sha256}, neither this package's nor the "
        f"previous release's: `python -m deploy status {stage}`, then `python -m deploy "
        f"rollback {stage} --to-version N`"
    )


def current_code(listed: list[Version], number: str) -> str:
    return next(v.code_sha256 for v in listed if v.number == number)
