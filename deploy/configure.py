"""zappa_settings.json: the stage's resource names, filled from the stacks' outputs.

    python -m deploy configure STAGE [--without-edge]

Names only, never a secret: the function reads its secrets from SSM at start. Without a usable
core stack it writes nothing; without a usable edge stack it writes the core's names, says why
the CDN names are missing and exits 1, unless told the stage runs without CloudFront for now
(--without-edge: playback by S3 presigned URLs, the CDN names removed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deploy import stacks
from deploy.shared import ROOT, say
from deploy.stage_secrets import CLOUDFRONT_KEY

SETTINGS_FILE = ROOT / "zappa_settings.json"


def stage_settings(stage: str, settings_file: Path | None = None) -> dict[str, Any]:
    """The stage's settings as Zappa reads them: its own keys over its parent's (``extends``)."""
    document = json.loads((settings_file or SETTINGS_FILE).read_text())
    settings = document[stage]
    if "extends" in settings:
        settings = {**document[settings["extends"]], **settings}
    return settings


CDN_NAMES = ("VOJ_CDN_DOMAIN", "VOJ_CDN_KEY_ID", "VOJ_CDN_DISTRIBUTION_ID")


def configure(
    stage: str, settings_file: Path = SETTINGS_FILE, *, without_edge: bool = False
) -> dict[str, str]:
    """Fill the stage's resource names from the stack outputs. Names only, never a secret."""
    try:
        core = stacks.stack_outputs(stage, "core")
    except stacks.StackNotReady as error:
        raise SystemExit(
            f"configure: {error}; nothing written. Apply it first: "
            f"python -m deploy stack apply {stage} --template core"
        ) from None
    names = {
        "VOJ_MEDIA_BUCKET": core["MediaBucketName"],
        "VOJ_BOOKS_TABLE": core["BooksTableName"],
        "VOJ_CHAPTERS_TABLE": core["ChaptersTableName"],
        "VOJ_SECURITY_TABLE": core["SecurityTableName"],
        "VOJ_LISTENING_TABLE": core["ListeningTableName"],
        "VOJ_SECRETS": core["SecretsPath"],
    }
    edge: dict[str, str] = {}
    missing_edge = None
    if not without_edge:
        try:
            edge = stacks.stack_outputs(stage, "edge")
        except stacks.StackNotReady as error:
            missing_edge = str(error)
    document = json.loads(settings_file.read_text())
    environment = document[stage].setdefault("environment_variables", {})
    if without_edge:
        for name in CDN_NAMES:
            environment.pop(name, None)
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
    environment.update(names)
    settings_file.write_text(json.dumps(document, indent=4, ensure_ascii=False) + "\n")
    say(f"{settings_file.name} [{stage}]: " + ", ".join(f"{k}={v}" for k, v in names.items()))
    if without_edge:
        say("without the edge stack: no CDN names, playback by S3 presigned URLs")
    if missing_edge:
        say(
            f"warning: {missing_edge}, so {', '.join(CDN_NAMES)} are not written and playback "
            f"would use S3 presigned URLs. Apply it (python -m deploy stack apply {stage} "
            "--template edge) and run configure again, or pass --without-edge if the stage "
            "runs without CloudFront for now."
        )
        raise SystemExit(1)
    return names
