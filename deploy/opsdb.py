"""Recovery of the operator database, the SQLite file the function keeps in the media bucket.

    python -m deploy opsdb versions STAGE
    python -m deploy opsdb restore STAGE --version-id ID [--yes]

The bucket is versioned (deploy/stack.yaml), so every publish left the file before it as a
noncurrent version (kept 30 days). A restore copies the current file aside first, then writes
the chosen version back as the current one, only over the file it read (If-Match): a container
that publishes in between makes the restore stop, never lose that change silently. Running
containers see the new ETag on their next request and load the restored file.
"""

from __future__ import annotations

import time
from typing import Any

from deploy import shared, stacks
from deploy.shared import say

KEY = "system/operator-db.sqlite3"
BACKUPS = "system/operator-db-backups/"
SQLITE_HEADER = b"SQLite format 3\x00"


def media_bucket(stage: str) -> str:
    return stacks.stack_outputs(stage, "core")["MediaBucketName"]


def versions(stage: str, *, bucket: str | None = None) -> list[dict[str, Any]]:
    """Every stored version of the file, newest first (S3 lists them so)."""
    bucket = bucket or media_bucket(stage)
    s3 = shared.client("s3")
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=KEY):
        for version in page.get("Versions", []):
            if version["Key"] == KEY:
                found.append({**version, "DeleteMarker": False})
        for marker in page.get("DeleteMarkers", []):
            if marker["Key"] == KEY:
                found.append({**marker, "DeleteMarker": True, "Size": 0, "ETag": ""})
    found.sort(key=lambda v: v["LastModified"], reverse=True)
    say(f"s3://{bucket}/{KEY}: {len(found)} version(s), newest first")
    for version in found:
        say(
            f"  {version['VersionId']:<34} {version['LastModified']:%Y-%m-%d %H:%M:%S} UTC "
            f"{'delete marker' if version['DeleteMarker'] else str(version['Size']) + ' bytes':>14}"
            f"{'  (current)' if version['IsLatest'] else ''}"
        )
    return found


def restore(stage: str, version_id: str, *, yes: bool, bucket: str | None = None) -> str:
    """Make version_id the current file again; returns the backup's key."""
    bucket = bucket or media_bucket(stage)
    s3 = shared.client("s3")
    try:
        chosen = s3.get_object(Bucket=bucket, Key=KEY, VersionId=version_id)
    except s3.exceptions.ClientError as error:
        raise SystemExit(
            f"version {version_id} of {KEY} not found ({error.response['Error']['Code']}); "
            f"list them with `python -m deploy opsdb versions {stage}`"
        ) from error
    body = chosen["Body"].read()
    if not body.startswith(SQLITE_HEADER):
        raise SystemExit(f"version {version_id} is not an SQLite database; nothing changed")
    current = s3.head_object(Bucket=bucket, Key=KEY)
    if current.get("VersionId") == version_id:
        say(f"version {version_id} is already the current one; nothing changed")
        return ""
    if not yes and input(f"replace the current {KEY} with {version_id}? [y/N] ").lower() != "y":
        raise SystemExit("not restored")
    backup = (
        f"{BACKUPS}{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{current['VersionId']}.sqlite3"
    )
    s3.copy_object(
        Bucket=bucket,
        Key=backup,
        CopySource={"Bucket": bucket, "Key": KEY, "VersionId": current["VersionId"]},
        ServerSideEncryption="AES256",
    )
    say(f"current version {current['VersionId']} copied to s3://{bucket}/{backup}")
    try:
        written = s3.put_object(
            Bucket=bucket,
            Key=KEY,
            Body=body,
            ContentType="application/vnd.sqlite3",
            ServerSideEncryption="AES256",
            IfMatch=current["ETag"],
        )
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise SystemExit(
                "the operator database changed while restoring (a console write); nothing was "
                f"overwritten. Run the restore again: python -m deploy opsdb restore {stage} "
                f"--version-id {version_id}"
            ) from error
        raise
    say(f"restored {version_id} as the current {KEY} (new version {written.get('VersionId')})")
    return backup
