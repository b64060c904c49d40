"""CloudFront invalidations: validated paths, a traceable CallerReference, status read back."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from voj.aws import aws_client
from voj.exceptions import DomainError, StorageUnavailable

from .keys import book_cover_prefix, book_media_prefix

# CloudFront: a path starts with '/', '*' may only end it, at most 3,000 paths in progress and
# 15 of them with wildcards. One request here stays far inside those.
MAX_PATHS = 100
MAX_WILDCARD_PATHS = 15
MAX_PATH_LENGTH = 4000
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class CdnNotConfigured(DomainError):
    code = "cdn_not_configured"
    status_code = HTTPStatus.BAD_REQUEST
    message = "CloudFront is not configured here (VOJ_CDN_DISTRIBUTION_ID is unset)."


class InvalidPaths(DomainError):
    code = "invalid_paths"
    status_code = HTTPStatus.BAD_REQUEST


@dataclass(frozen=True, slots=True)
class Invalidation:
    id: str
    status: str  # "In progress" or "Completed"
    created_at: datetime | None
    paths: tuple[str, ...] = ()
    caller_reference: str = ""

    @property
    def requested_by(self) -> str:
        """The operator named in a CallerReference this console made ("voj:NAME:TIME:NONCE");
        empty for one made elsewhere (the AWS console, the CLI)."""
        prefix, _, rest = self.caller_reference.partition(":")
        name, _, stamp = rest.partition(":")
        return name if prefix == "voj" and name and stamp else ""


def cdn_configured() -> bool:
    return bool(settings.VOJ_CDN_DISTRIBUTION_ID)


def invalidation_paths_validate(paths: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in paths:
        path = raw.strip()
        if not path:
            continue
        if not path.startswith("/"):
            raise InvalidPaths(f"{path!r} must start with '/'.")
        if _CONTROL.search(path):
            raise InvalidPaths(f"{path!r} contains spaces or control characters.")
        if "*" in path[:-1]:
            raise InvalidPaths(f"{path!r}: '*' may only be the last character.")
        if len(path) > MAX_PATH_LENGTH:
            raise InvalidPaths(f"a path is longer than {MAX_PATH_LENGTH} characters.")
        if path not in cleaned:
            cleaned.append(path)
    if not cleaned:
        raise InvalidPaths("Give at least one path.")
    if len(cleaned) > MAX_PATHS:
        raise InvalidPaths(f"At most {MAX_PATHS} paths per invalidation.")
    if sum(p.endswith("*") for p in cleaned) > MAX_WILDCARD_PATHS:
        raise InvalidPaths(f"At most {MAX_WILDCARD_PATHS} wildcard paths per invalidation.")
    return cleaned


def book_paths(book_id: str) -> list[str]:
    """A book's audio and its covers. A cover's key is new with every change, so only
    withdrawing one (a cover removed before its cached copies age out) needs its path."""
    return [f"/{book_media_prefix(book_id)}*", f"/{book_cover_prefix(book_id)}*"]


def _status(raw: str) -> str:
    return {"inprogress": "In progress", "completed": "Completed"}.get(raw.lower(), raw)


def _client() -> Any:
    if not cdn_configured():
        raise CdnNotConfigured()
    return aws_client("cloudfront")


def _call(method: Any, **kwargs: Any) -> Any:
    try:
        return method(**kwargs)
    except BotoCoreError as error:
        raise StorageUnavailable("CloudFront could not be reached; try again.") from error
    except ClientError as error:
        raise InvalidPaths(error.response.get("Error", {}).get("Message", str(error))) from error


def invalidation_create(*, paths: list[str], operator: str) -> Invalidation:
    paths = invalidation_paths_validate(paths)
    # Unique per request, and it says who asked and when.
    reference = (
        f"voj:{re.sub(r'[^A-Za-z0-9_.@-]', '_', operator)}:"
        f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}:{secrets.token_hex(4)}"
    )
    client = _client()
    response = _call(
        client.create_invalidation,
        DistributionId=settings.VOJ_CDN_DISTRIBUTION_ID,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": reference,
        },
    )
    item = response["Invalidation"]
    return Invalidation(
        id=item["Id"],
        status=_status(item["Status"]),
        created_at=item.get("CreateTime"),
        paths=tuple(paths),
        caller_reference=reference,
    )


def invalidation_list(*, limit: int = 25) -> list[Invalidation]:
    client = _client()
    response = _call(
        client.list_invalidations,
        DistributionId=settings.VOJ_CDN_DISTRIBUTION_ID,
        MaxItems=str(limit),
    )
    items = response.get("InvalidationList", {}).get("Items", []) or []
    # The list gives ids and states only; the paths and the CallerReference (who asked) come
    # from one GetInvalidation each, which the console's page of 25 can afford.
    return [invalidation_get(i["Id"]) for i in items]


def invalidation_get(invalidation_id: str) -> Invalidation:
    client = _client()
    response = _call(
        client.get_invalidation,
        DistributionId=settings.VOJ_CDN_DISTRIBUTION_ID,
        Id=invalidation_id,
    )
    item = response["Invalidation"]
    batch = item.get("InvalidationBatch", {})
    return Invalidation(
        id=item["Id"],
        status=_status(item["Status"]),
        created_at=item.get("CreateTime"),
        paths=tuple(batch.get("Paths", {}).get("Items", []) or []),
        caller_reference=batch.get("CallerReference", ""),
    )
