"""Signed upload form policies for the embedded default.

The same document S3 uses for a presigned POST (expiration + conditions), signed with an HMAC
of the project key, so a client builds one form for either target.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from django.core.signing import Signer
from django.utils.crypto import constant_time_compare

SIGNATURE_FIELD = "x-voj-signature"
_signer = Signer(salt="voj.streaming.upload-policy")


class PolicyError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def policy_encode(*, expires_at: datetime, conditions: list[Any]) -> tuple[str, str]:
    document = {
        "expiration": expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conditions": conditions,
    }
    policy = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    return policy, _signer.signature(policy)


def policy_decode(policy: str, signature: str, *, now: datetime | None = None) -> dict:
    """The verified policy document. Raises PolicyError for a bad signature or an expiry."""
    if not policy or not signature:
        raise PolicyError("AccessDenied", "the form has no policy or no signature")
    if not constant_time_compare(_signer.signature(policy), signature):
        raise PolicyError("SignatureDoesNotMatch", "the policy signature does not match")
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
        expires = datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%S.000Z")
    except (ValueError, KeyError, TypeError):
        raise PolicyError("InvalidPolicyDocument", "the policy document is malformed") from None
    if (now or datetime.now(UTC)) >= expires.replace(tzinfo=UTC):
        raise PolicyError("AccessDenied", "the upload grant has expired")
    return document


def policy_check_fields(document: dict, fields: dict[str, str], size: int) -> None:
    """Apply the policy's conditions to the submitted form, as S3 does."""
    covered = {"policy", SIGNATURE_FIELD, "file"}
    for condition in document.get("conditions", []):
        if isinstance(condition, dict):
            for name, expected in condition.items():
                covered.add(name.lower())
                if name == "bucket":
                    continue
                if fields.get(name) != expected:
                    raise PolicyError(
                        "AccessDenied", f"policy condition failed: {name} must be {expected!r}"
                    )
        elif isinstance(condition, list) and condition[:1] == ["content-length-range"]:
            low, high = int(condition[1]), int(condition[2])
            if size < low:
                raise PolicyError("EntityTooSmall", f"the file must be at least {low} bytes")
            if size > high:
                raise PolicyError("EntityTooLarge", f"the file must be at most {high} bytes")
        else:
            # voj signs exact matches and the size range only: a condition it cannot apply
            # is refused rather than passed over.
            raise PolicyError(
                "InvalidPolicyDocument", f"unsupported policy condition: {condition!r}"
            )
    extra = sorted(name for name in fields if name.lower() not in covered)
    if extra:
        raise PolicyError("AccessDenied", f"form field not allowed by the policy: {extra[0]}")
