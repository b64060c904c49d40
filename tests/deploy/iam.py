"""Which IAM actions a recorded AWS request needs, and whether deploy/deployer-policy.json allows
them: a small evaluator of the policy's Allow and Deny statements (Action, with wildcards).

A request is recorded as botocore sees it (service signing name, operation, HTTP method, the
names of its parameters). Most operations need the action of the same name; the exceptions
below follow AWS's Service Authorization Reference.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

POLICY = Path(__file__).resolve().parents[2] / "deploy" / "deployer-policy.json"

# S3 operations whose action has another name.
S3_ACTIONS = {
    "HeadObject": ["s3:GetObject"],
    "HeadBucket": ["s3:ListBucket"],
    "ListObjects": ["s3:ListBucket"],
    "ListObjectsV2": ["s3:ListBucket"],
    "ListObjectVersions": ["s3:ListBucketVersions"],
    "CreateMultipartUpload": ["s3:PutObject"],
    "UploadPart": ["s3:PutObject"],
    "CompleteMultipartUpload": ["s3:PutObject"],
    "AbortMultipartUpload": ["s3:AbortMultipartUpload"],
    "CopyObject": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
    "DeleteObjects": ["s3:DeleteObject"],
    "PutBucketLifecycleConfiguration": ["s3:PutLifecycleConfiguration"],
    "GetBucketLifecycleConfiguration": ["s3:GetLifecycleConfiguration"],
    "PutPublicAccessBlock": ["s3:PutBucketPublicAccessBlock"],
    "GetPublicAccessBlock": ["s3:GetBucketPublicAccessBlock"],
    "PutBucketEncryption": ["s3:PutEncryptionConfiguration"],
    "GetBucketEncryption": ["s3:GetEncryptionConfiguration"],
}
# A point-in-time restore writes the new table with the caller's rights (AWS's DynamoDB guide,
# "IAM policy to restore a table to a point in time").
DYNAMODB_ACTIONS = {
    "RestoreTableToPointInTime": [
        "dynamodb:RestoreTableToPointInTime",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
    ],
}
# Needs no permission: answers who the caller is.
FREE = {"sts:GetCallerIdentity"}


def actions(record: dict) -> list[str]:
    service, operation, params = record["service"], record["operation"], record["params"]
    name = f"{service}:{operation}"
    if name in FREE:
        return []
    if service == "apigateway":  # API Gateway authorises by HTTP method on the resource path
        return [f"apigateway:{record['method']}"]
    if service == "s3":
        needed = S3_ACTIONS.get(operation, [name])
        if operation in ("GetObject", "HeadObject") and "VersionId" in params:
            needed = ["s3:GetObjectVersion"]
        return needed
    if service == "dynamodb" and operation in DYNAMODB_ACTIONS:
        return DYNAMODB_ACTIONS[operation]
    if name == "lambda:Invoke":  # zappa manage, zappa invoke
        return ["lambda:InvokeFunction"]
    needed = [name]
    passes_role = operation in ("CreateFunction", "UpdateFunctionConfiguration")
    if service == "lambda" and passes_role and "Role" in params:
        needed.append("iam:PassRole")  # handing the stack's role to the function
    return needed


def _matches(patterns: str | list[str], action: str) -> bool:
    patterns = [patterns] if isinstance(patterns, str) else patterns
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def allowed(action: str, policy: dict | None = None) -> bool:
    policy = policy or json.loads(POLICY.read_text())
    statements = policy["Statement"]
    assert all("Action" in s and "NotAction" not in s for s in statements)
    if any(s["Effect"] == "Deny" and _matches(s["Action"], action) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _matches(s["Action"], action) for s in statements)


def uncovered(records: list[dict], policy: dict | None = None) -> list[str]:
    """The actions the records need that the policy does not allow, sorted."""
    needed = {action for record in records for action in actions(record)}
    return sorted(a for a in needed if not allowed(a, policy))


def record_operations(monkeypatch) -> list[dict]:
    """Records every request of the clients the deploy commands build (deploy.shared.client),
    at botocore's event hook."""
    from deploy import shared

    records: list[dict] = []
    build = shared.client

    def client(service, region=shared.REGION):
        built = build(service, region)

        def record(model, params, **kwargs):
            records.append(
                {
                    "service": model.service_model.signing_name,
                    "operation": model.name,
                    "method": model.http.get("method", ""),
                    "params": sorted(params),
                }
            )

        built.meta.events.register("before-parameter-build", record)
        return built

    monkeypatch.setattr(shared, "client", client)
    return records
