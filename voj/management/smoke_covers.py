"""The smoke command's cover steps (voj/management/commands/smoke.py): upload a small cover
through its grant on the deployed API, complete it, and fetch its cover_url as a browser's
<img> does, without an Authorization header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import urllib3
from django.core.management.base import CommandError

COVER = Path(__file__).resolve().parents[2] / "deploy" / "smoke" / "cover.jpg"
IMMUTABLE = "immutable"


def form_post(http: Any, grant: dict[str, Any], filename: str, content: bytes) -> int:
    """Send ``content`` through an upload grant as a browser's form does (fields, then file);
    the store's status."""
    fields: list[tuple[str, Any]] = list(grant["fields"].items())
    fields.append(("file", (filename, content, grant["fields"]["Content-Type"])))
    body, form_type = urllib3.encode_multipart_formdata(fields)
    response = http.request(
        grant["method"], grant["url"], body=body, headers={"Content-Type": form_type}
    )
    if response.status not in (200, 201, 204):
        raise CommandError(f"upload: {response.status}: {response.data[:300]!r}")
    return int(response.status)


class CoverSteps:
    """Mixed into the smoke run, which gives ``client`` and ``book``."""

    client: Any
    book: str | None
    cover_url: str = ""

    def cover(self) -> str:
        image = COVER.read_bytes()
        body = self.client.call(
            "POST",
            f"/api/v1/books/{self.book}/cover",
            {"filename": COVER.name, "content_type": "image/jpeg", "size_bytes": len(image)},
            201,
        )
        form_post(self.client.http, body["upload"], COVER.name, image)
        book = self.client.call("POST", f"/api/v1/books/{self.book}/cover/complete")
        if not book.get("cover_url"):
            raise CommandError(f"the completed book has no cover_url: {book}")
        self.cover_url = book["cover_url"]
        return self.cover_url.split("?")[0]

    def cover_unsigned(self) -> str:
        # No Authorization header: covers are public to whoever is given the URL.
        response = self.client.http.request("GET", self.cover_url)
        content_type = response.headers.get("Content-Type", "")
        caching = response.headers.get("Cache-Control", "")
        if response.status != 200 or content_type != "image/jpeg":
            raise CommandError(f"the cover answered {response.status} ({content_type})")
        if not response.data.startswith(b"\xff\xd8") or IMMUTABLE not in caching:
            raise CommandError(f"not a long-cacheable JPEG: Cache-Control {caching!r}")
        return f"{len(response.data)} bytes, {caching}"
