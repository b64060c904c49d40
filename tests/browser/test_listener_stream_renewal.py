"""The listener page renews a chapter's stream URL before it expires, while playing, and carries
on at the same position: against a `make run` whose stream URLs live 12 s (its own server,
apart from tests/browser/test_listener_page.py, which keeps the usual lifetimes)."""

from __future__ import annotations

import pytest

from tests.browser.listener import (
    PASSWORD,
    TITLE,
    Watched,
    current_time,
    listener_browser,
    published_book,
    sign_in,
    wait_playing_past,
)
from tests.servers import serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with listener_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def short_urls(tmp_path_factory):
    """`make run` whose stream URLs live 12 s (floor 1 s, cap 12 s instead of 15 minutes and
    12 hours): long enough to start playing, short enough to need renewing while playing."""
    with serving(
        "run",
        tmp_path_factory.mktemp("short-urls"),
        VOJ_DEMO_PASSWORD=PASSWORD,
        VOJ_STREAM_URL_MIN_SECONDS="1",
        VOJ_STREAM_URL_MAX_SECONDS="12",
    ) as server:
        yield {"mode": "run", "url": server.url, **published_book(server.url)}


def test_the_stream_url_is_renewed_while_playing_at_the_same_position(browser, short_urls):
    watched = Watched(browser, short_urls, 1280)
    page = watched.page
    issued: list[str] = []
    page.on("response", lambda r: issued.append(r.url) if r.url.endswith("/stream-url") else None)
    sign_in(page, short_urls["url"])
    page.locator("#books").get_by_role("button", name=TITLE).click()
    page.get_by_role("button", name="1. Long tone").click()
    wait_playing_past(page, 0.5)
    first = page.evaluate("() => audio.currentSrc")
    page.wait_for_function(
        "(first) => audio.currentSrc !== first && audio.readyState >= 2 && !audio.seeking",
        arg=first,
        timeout=15000,
    )
    assert len(issued) == 2 and issued[0] == issued[1]  # the same chapter's, once more
    renewed_at = current_time(page)
    assert renewed_at > 4, renewed_at  # picked up where it was (renewed half-way: about 6 s)
    wait_playing_past(page, renewed_at + 0.5)
    assert watched.close() == []
