"""What the listener page's browser tests share: chromium with the page's needs, a published
book made through the public API, and a browser context that collects what went wrong."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3

from tests.browser.chromium import chromium
from voj.management.commands.smoke import Client

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "chapter-40s.m4a"
PASSWORD = "pw-listener-page-1"
TITLE = "The Long Tone"


@contextmanager
def listener_browser() -> Iterator[Any]:
    """chromium as the listener page's tests need it."""
    # Headless chromium may refuse play() without a gesture it counts; the test clicks anyway.
    args = ("--autoplay-policy=no-user-gesture-required",)
    with chromium(args) as browser:
        yield browser


def published_book(base: str) -> dict[str, Any]:
    """A published book of two 40 s chapters, made through the public API by the demo editor
    (upload through the grant: the local endpoint under `make run`, S3 under `make run-aws`),
    and the origin its stream URLs come from."""
    editor = Client(base, timeout=30)
    editor.token = editor.call(
        "POST", "/api/v1/auth/login", {"username": "editor", "password": PASSWORD}
    )["access"]
    book = editor.call(
        "POST", "/api/v1/books", {"title": TITLE, "author": "voj tests", "language": "en"}, 201
    )
    chapters = [chapter_upload(editor, book["id"], title) for title in ("Long tone", "Second tone")]
    editor.call("POST", f"/api/v1/books/{book['id']}/publish")
    link = editor.call("GET", f"/api/v1/audio/{chapters[0]}/stream-url")
    parts = urlsplit(link["url"])
    return {"book": book["id"], "chapter": chapters[0], "media": f"{parts.scheme}://{parts.netloc}"}


def chapter_upload(editor: Client, book_id: str, title: str) -> str:
    audio = AUDIO.read_bytes()
    created = editor.call(
        "POST",
        f"/api/v1/books/{book_id}/chapters",
        {
            "title": title,
            "filename": AUDIO.name,
            "content_type": "audio/mp4",
            "size_bytes": len(audio),
        },
        201,
    )
    grant, chapter = created["upload"], created["chapter"]
    fields: list[tuple[str, Any]] = list(grant["fields"].items())
    fields.append(("file", (AUDIO.name, audio, grant["fields"]["Content-Type"])))
    body, form_type = urllib3.encode_multipart_formdata(fields)
    uploaded = editor.http.request(
        "POST", grant["url"], body=body, headers={"Content-Type": form_type}
    )
    assert uploaded.status in (200, 201, 204), uploaded.data[:300]
    done = editor.call("POST", f"/api/v1/books/{book_id}/chapters/{chapter['id']}/complete")
    assert done["status"] == "ready", done
    return chapter["id"]


def listener_api(base: str) -> Client:
    client = Client(base, timeout=30)
    client.token = client.call(
        "POST", "/api/v1/auth/login", {"username": "listener", "password": PASSWORD}
    )["access"]
    return client


class Watched:
    """A browser context on the listener page, and what went wrong in it: page errors, console
    errors (a Content-Security-Policy refusal among them), failed requests other than those
    expected, and a page served without its strict policy."""

    # Expected refusals: the first load's session check before any sign-in, and a book
    # without progress yet.
    EXPECTED = (("POST", "/listen/session/refresh", 401), ("GET", "/api/v1/me/progress/", 404))

    def __init__(self, browser: Any, site: dict[str, Any], width: int) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, is_mobile=width < 500
        )
        self.problems: list[str] = []
        # Where audio and covers come from: the server itself under `make run` ('self').
        self.media = site["media"] if site["media"] != site["url"] else None
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # A refused request is also logged as "Failed to load resource": judged in _response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        path = urlsplit(response.url).path
        if path == "/listen/" and response.request.resource_type == "document":
            self._check_policy(response.headers.get("content-security-policy", ""))
        if response.status < 400:
            return
        method = response.request.method
        if not any(
            method == m and path.startswith(p) and response.status == s for m, p, s in self.EXPECTED
        ):
            self.problems.append(f"{method} {path}: {response.status}")

    def _check_policy(self, header: str) -> None:
        """The page as the server sends it: this host's scripts and styles only, audio and
        covers also from the CDN (the local edge under `make run-aws`)."""
        policy = {
            name: values
            for name, *values in (part.split() for part in header.split(";") if part.strip())
        }
        expected = {
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "object-src": ["'none'"],
            "frame-ancestors": ["'none'"],
        }
        wrong = {
            name: policy.get(name)
            for name, values in expected.items()
            if policy.get(name) != values
        }
        if self.media and self.media not in policy.get("media-src", []):
            wrong["media-src"] = policy.get("media-src")
        if wrong:
            self.problems.append(f"/listen/ Content-Security-Policy: {wrong} in {header!r}")

    def close(self) -> list[str]:
        self.context.close()
        return self.problems


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/listen/")
    page.get_by_label("Username").fill("listener")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("searchbox").wait_for()


def current_time(page: Any) -> float:
    return page.evaluate("document.getElementById('audio').currentTime")


def wait_playing_past(page: Any, seconds: float) -> None:
    try:
        page.wait_for_function(
            "(seconds) => !audio.paused && audio.currentTime > seconds",
            arg=seconds,
            timeout=15000,
        )
    except Exception as error:  # say what the page shows, not only that it timed out
        state = page.evaluate(
            "() => ({src: audio.currentSrc, error: audio.error && audio.error.code,"
            " paused: audio.paused, time: audio.currentTime, ready: audio.readyState,"
            " notice: document.getElementById('notice').textContent,"
            " sync: document.getElementById('sync').textContent})"
        )
        raise AssertionError(f"not playing past {seconds} s: {state}") from error


def assert_fits(page: Any, where: str) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{where}: the page scrolls sideways ({widths})"
