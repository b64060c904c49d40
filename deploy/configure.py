"""zappa_settings.json: the stage's resource names, filled from the stacks' outputs.

    python -m deploy configure STAGE

Names only, never a secret: the function reads its secrets from SSM at start.
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


def configure(stage: str, settings_file: Path = SETTINGS_FILE) -> dict[str, str]:
    """Fill the stage's resource names from the stack outputs. Names only, never a secret."""
    core = stacks.stack_outputs(stage, "core")
    names = {
        "VOJ_MEDIA_BUCKET": core["MediaBucketName"],
        "VOJ_BOOKS_TABLE": core["BooksTableName"],
        "VOJ_CHAPTERS_TABLE": core["ChaptersTableName"],
        "VOJ_SECURITY_TABLE": core["SecurityTableName"],
        "VOJ_LISTENING_TABLE": core["ListeningTableName"],
        "VOJ_SECRETS": core["SecretsPath"],
    }
    try:
        edge = stacks.stack_outputs(stage, "edge")
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
    say(f"{settings_file.name} [{stage}]: " + ", ".join(f"{k}={v}" for k, v in names.items()))
    return names
