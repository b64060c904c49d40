"""End-to-end smoke test against any deployment of the API.

    VOJ_SMOKE_USERNAME=editor VOJ_SMOKE_PASSWORD=... python manage.py smoke --base-url URL

login → me → create book → create chapter → upload a real .m4a through the grant →
complete → ready → publish → a search finds it → a cover uploaded, completed and fetched
without Authorization → stream-url → GET Range bytes=0-127 → 206 → the same URL for another
object → 403 → the media stay private → progress from one device → an older report from
another device leaves it → resume → delete the book → its progress is gone. Prints each step
with its time and stops non-zero at the first failure.

The media stay private: the stream URL without its signature is refused, and so is a direct
unsigned GET of the object in the bucket (403). The bucket's URL is the stream URL's own when
that is an S3 presigned URL; behind CloudFront pass --bucket-url to check that only the CDN
reaches the bucket (OAC). A store that serves an unsigned request and also accepts a forged
signature checks no authorisation at all, so it cannot show privacy: the step is reported as
not checkable there.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import urllib3
from django.core.management.base import BaseCommand, CommandError

from voj.management.smoke_covers import CoverSteps, form_post

AUDIO = Path(__file__).resolve().parents[3] / "deploy" / "smoke" / "chapter.m4a"


class SmokeFailure(CommandError):
    pass


class NotCheckable(Exception):
    """A step that this deployment cannot answer; reported, not failed."""


# The query parameters that carry a stream URL's authority: CloudFront, S3 SigV4, the local URL.
SIGNATURE_PARAMS = {
    "Signature",
    "Policy",
    "Key-Pair-Id",
    "Expires",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Algorithm",
    "X-Amz-Security-Token",
    "signature",
    "expires",
}
REFUSED = {401, 403}


def unsigned(url: str) -> str:
    """The URL without the parameters that sign it."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in SIGNATURE_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def forged(url: str) -> str:
    """The URL with its signature changed: refused by any store that checks signatures."""
    parts = urlsplit(url)
    query = []
    for key, value in parse_qsl(parts.query):
        if key in {"Signature", "X-Amz-Signature", "signature"}:
            value = ("0" if value[:1] != "0" else "1") + value[1:]
        query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def is_s3_url(url: str) -> bool:
    return "X-Amz-Signature" in dict(parse_qsl(urlsplit(url).query))


class Client:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base = base_url.rstrip("/")
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout), retries=False)
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        response = self.http.request(method, self.base + path, body=data, headers=headers)
        if response.status != expect:
            raise SmokeFailure(
                f"{method} {path}: expected {expect}, got {response.status}: "
                f"{response.data[:300].decode(errors='replace')}"
            )
        return response.json() if response.data else None


class SmokeRun(CoverSteps):
    """One run's steps, in order, and what they hand each other (the book, the chapter, its
    upload grant and stream URL). Each step returns the detail printed after ``ok``."""

    def __init__(
        self, client: Client, *, username: str, password: str, file: Path, bucket_url: str | None
    ) -> None:
        self.client = client
        self.username = username
        self.password = password
        self.file = file
        self.audio = file.read_bytes()
        self.bucket_url = bucket_url
        self.book: str | None = None
        self.chapter = ""
        self.grant: dict[str, Any] = {}
        self.stream: dict[str, Any] = {}
        self.progress_book = ""
        self.reported_at = datetime.now(UTC)
        # A word no other book has: the search must find this run's book, on its first page.
        self.word = "smoke" + os.urandom(5).hex()

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("login", self.login),
            ("me", self.me),
            ("create book", self.create_book),
            ("create chapter", self.create_chapter),
            ("upload", self.upload),
            ("complete", self.complete),
            ("publish", self.publish),
            ("search", self.search),
            ("cover", self.cover),
            ("cover unsigned", self.cover_unsigned),
            ("stream-url", self.stream_url),
            ("range 0-127", self.ranged_get),
            ("tampered url", self.tampered_get),
            ("unsigned url", self.unsigned_refused),
            ("bucket direct", self.bucket_refused),
            ("progress", self.progress),
            ("late report", self.late_report),
            ("resume", self.resume),
            ("delete book", self.delete_book),
            ("progress gone", self.progress_gone),
        ]

    def login(self) -> str:
        body = self.client.call(
            "POST", "/api/v1/auth/login", {"username": self.username, "password": self.password}
        )
        self.client.token = body["access"]
        return f"as {body['user']['username']}"

    def me(self) -> str:
        return str(self.client.call("GET", "/api/v1/auth/me")["groups"])

    def create_book(self) -> str:
        book = self.client.call(
            "POST",
            "/api/v1/books",
            {"title": f"voj smoke test {self.word}", "author": "smoke"},
            201,
        )
        self.book = book["id"]
        return book["id"]

    def create_chapter(self) -> str:
        body = self.client.call(
            "POST",
            f"/api/v1/books/{self.book}/chapters",
            {
                "title": "Smoke",
                "filename": self.file.name,
                "content_type": "audio/mp4",
                "size_bytes": len(self.audio),
            },
            201,
        )
        self.chapter, self.grant = body["chapter"]["id"], body["upload"]
        return body["chapter"]["id"]

    def upload(self) -> str:
        status = form_post(self.client.http, self.grant, self.file.name, self.audio)
        return f"{len(self.audio)} bytes → {status}"

    def complete(self) -> str:
        chapter = self.client.call(
            "POST", f"/api/v1/books/{self.book}/chapters/{self.chapter}/complete"
        )
        if chapter["status"] != "ready":
            raise SmokeFailure(f"chapter is {chapter['status']}: {chapter['failure_reason']}")
        return f"ready, {chapter['duration_seconds']} s"

    def publish(self) -> str:
        book = self.client.call("POST", f"/api/v1/books/{self.book}/publish")
        if book["status"] != "published":
            raise SmokeFailure(f"the book is {book['status']} after publishing")
        return f"published at {book['published_at']}"

    def search(self) -> str:
        # Its first characters only: a word prefix, the way a listener types.
        query = self.word[:12]
        found = self.client.call("GET", f"/api/v1/books?{urlencode({'q': query})}")["results"]
        if [book["id"] for book in found] != [self.book]:
            raise SmokeFailure(f"searching {query!r} found {len(found)} books, not this one")
        return f"{query!r} finds it"

    def report(self, position: float, at: datetime, device: str) -> dict[str, Any]:
        return self.client.call(
            "PUT",
            f"/api/v1/me/progress/{self.progress_book}",
            {
                "chapter_id": self.chapter,
                "position_seconds": position,
                "updated_at": at.isoformat(),
                "device": device,
            },
        )

    def progress(self) -> str:
        self.progress_book = self.book or ""
        self.reported_at = datetime.now(UTC)
        body = self.report(1.0, self.reported_at, "smoke-phone")
        if not body["applied"] or body["latest"]["position_seconds"] != 1.0:
            raise SmokeFailure(f"the first report was not kept: {body}")
        return "1.0 s from smoke-phone"

    def late_report(self) -> str:
        # A device that was offline reports an earlier moment: it must not drag the listener back.
        body = self.report(0.5, self.reported_at - timedelta(minutes=1), "smoke-car")
        if body["applied"] or body["latest"]["device"] != "smoke-phone":
            raise SmokeFailure(f"an older report replaced the newer one: {body}")
        return "not applied, latest kept"

    def resume(self) -> str:
        body = self.client.call("GET", f"/api/v1/me/progress/{self.progress_book}")
        latest = body["latest"]
        if (latest["chapter_id"], latest["position_seconds"]) != (self.chapter, 1.0):
            raise SmokeFailure(f"resumes at {latest}, not where the listener stopped")
        return f"chapter {latest['chapter_number']} at {latest['position_seconds']} s"

    def progress_gone(self) -> str:
        self.client.call("GET", f"/api/v1/me/progress/{self.progress_book}", expect=404)
        return "404 after the book was deleted"

    def stream_url(self) -> str:
        # As the listener's player asks for it; the chapter's id alone gives the same link.
        self.stream = self.client.call(
            "GET", f"/api/v1/books/{self.book}/chapters/{self.chapter}/stream-url"
        )
        by_id = self.client.call("GET", f"/api/v1/audio/{self.chapter}/stream-url")
        if by_id["size_bytes"] != self.stream["size_bytes"]:
            raise SmokeFailure(f"the chapter's two stream links differ: {by_id} {self.stream}")
        return f"expires {self.stream['expires_at']}"

    def ranged_get(self) -> str:
        response = self.client.http.request(
            "GET", self.stream["url"], headers={"Range": "bytes=0-127"}
        )
        content_range = response.headers.get("Content-Range", "")
        if response.status != 206 or len(response.data) != 128:
            raise SmokeFailure(
                f"expected 206 with 128 bytes, got {response.status}, {len(response.data)} bytes"
            )
        if content_range != f"bytes 0-127/{len(self.audio)}" or response.data != self.audio[:128]:
            raise SmokeFailure(f"wrong range: {content_range}")
        return content_range

    def refused(self, url: str) -> int:
        return self.client.http.request("GET", url, headers={"Range": "bytes=0-127"}).status

    def checks_signatures(self, url: str) -> bool:
        return self.refused(forged(url)) in REFUSED

    def tampered_get(self) -> str:
        # The stream URL with its chapter id changed: the signature no longer covers it,
        # so the CDN, S3 or the local endpoint must refuse it (never 404, never the bytes).
        url, chapter = self.stream["url"], self.chapter
        other = chapter[:-1] + ("0" if chapter[-1] != "0" else "1")
        status = self.refused(url.replace(chapter, other))
        if status == 403:
            return "403"
        if not self.checks_signatures(url):
            raise NotCheckable(
                f"{status} for another object, but this store also accepts a forged "
                "signature: it checks no authorisation at all"
            )
        raise SmokeFailure(f"a tampered stream URL got {status}, not 403")

    def unsigned_refused(self) -> str:
        status = self.refused(unsigned(self.stream["url"]))
        if status in REFUSED:
            return f"{status} without the signature"
        if not self.checks_signatures(self.stream["url"]):
            raise NotCheckable(
                f"{status} without the signature, but this store also accepts a forged "
                "signature: it checks no authorisation at all"
            )
        raise SmokeFailure(f"the stream URL without its signature answered {status}")

    def bucket_refused(self) -> str:
        stream = self.stream["url"]
        if is_s3_url(stream):
            target = unsigned(stream)
        elif self.bucket_url:
            target = self.bucket_url.rstrip("/") + urlsplit(stream).path
        elif urlsplit(stream).netloc == urlsplit(self.client.base).netloc:
            raise NotCheckable("the local object store has no bucket URL")
        else:
            raise NotCheckable("pass --bucket-url to check that only the CDN reads the bucket")
        status = self.refused(target)
        if status in REFUSED:
            return f"{status} from {urlsplit(target).netloc}"
        if is_s3_url(stream) and not self.checks_signatures(stream):
            raise NotCheckable(
                f"{status}, but this store accepts a forged signature too: it checks none"
            )
        raise SmokeFailure(f"a direct unsigned GET of {target} answered {status}")

    def delete_book(self) -> str:
        book, self.book = self.book, None
        self.client.call("DELETE", f"/api/v1/books/{book}", expect=204)
        return "deleted"


class Command(BaseCommand):
    help = "Run the end-to-end smoke test against a deployment of the API."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--base-url", required=True, help="e.g. https://api.example.com")
        parser.add_argument("--file", type=Path, default=AUDIO, help="an .m4a to upload")
        parser.add_argument("--timeout", type=float, default=30)
        parser.add_argument(
            "--bucket-url",
            help="the media bucket's S3 URL (https://BUCKET.s3.REGION.amazonaws.com), to check "
            "that a direct unsigned GET is refused when stream URLs go through CloudFront",
        )

    def handle(
        self,
        *args: Any,
        base_url: str,
        file: Path,
        timeout: float,
        bucket_url: str | None = None,
        **options: Any,
    ) -> None:
        username = os.environ.get("VOJ_SMOKE_USERNAME")
        password = os.environ.get("VOJ_SMOKE_PASSWORD")
        if not username or not password:
            raise CommandError("set VOJ_SMOKE_USERNAME and VOJ_SMOKE_PASSWORD")
        run = SmokeRun(
            Client(base_url, timeout),
            username=username,
            password=password,
            file=file,
            bucket_url=bucket_url,
        )
        started = time.perf_counter()
        try:
            for name, action in run.steps():
                self.step(name, action)
        finally:
            self.clean_up(run)
        self.stdout.write(f"smoke passed in {_ms(started)} against {base_url}")

    def step(self, name: str, action: Callable[[], str]) -> None:
        """Run one step and print its line: ok, skip (not checkable here) or FAIL."""
        began = time.perf_counter()
        try:
            detail = action()
        except CommandError as failure:  # SmokeFailure, and the cover steps' (smoke_covers.py)
            self.stdout.write(f"FAIL {name} ({_ms(began)}): {failure}")
            raise
        except NotCheckable as reason:
            self.stdout.write(f"skip {name:<14} {_ms(began):>8}  not checkable: {reason}")
            return
        except (urllib3.exceptions.HTTPError, OSError, ValueError, KeyError) as error:
            self.stdout.write(f"FAIL {name} ({_ms(began)}): {error!r}")
            raise SmokeFailure(f"{name}: {error!r}") from error
        self.stdout.write(f"ok   {name:<14} {_ms(began):>8}  {detail or ''}".rstrip())

    def clean_up(self, run: SmokeRun) -> None:
        """Leave no book behind after a failure."""
        if run.book is None:
            return
        try:
            run.client.call("DELETE", f"/api/v1/books/{run.book}", expect=204)
        except (SmokeFailure, urllib3.exceptions.HTTPError):
            self.stderr.write(f"could not delete smoke book {run.book}")


def _ms(since: float) -> str:
    return f"{(time.perf_counter() - since) * 1000:.0f} ms"
