"""The listener page (/listen/) in Debian's chromium against `make run` and `make run-aws`: sign
in, find the book, play real audio, seek, bookmark, leave the page, then on a second browser
(another device) continue where the first one stopped. The page is served here under the strict
Content-Security-Policy it is written for; no page error, console error or unexpected failed
request is allowed. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.listener import (
    PASSWORD,
    TITLE,
    Watched,
    assert_fits,
    current_time,
    listener_api,
    listener_browser,
    published_book,
    shot,
    sign_in,
    wait_playing_past,
)
from tests.servers import serving

pytestmark = pytest.mark.browser

SEEK_TO = 20


@pytest.fixture(scope="module")
def browser():
    with listener_browser() as browser:
        yield browser


@pytest.fixture(scope="module", params=["run", "run-aws"])
def site(request, tmp_path_factory):
    with serving(
        request.param, tmp_path_factory.mktemp(request.param), VOJ_DEMO_PASSWORD=PASSWORD
    ) as server:
        yield {"mode": request.param, "url": server.url, **published_book(server.url)}


def saved_position(site: dict[str, Any]) -> dict[str, Any]:
    return listener_api(site["url"]).call("GET", f"/api/v1/me/progress/{site['book']}")


def forget_progress(site: dict[str, Any]) -> None:
    client = listener_api(site["url"])
    path = f"/api/v1/me/progress/{site['book']}"
    answer = client.http.request(
        "DELETE", client.base + path, headers={"Authorization": f"Bearer {client.token}"}
    )
    assert answer.status in (204, 404), answer.data[:300]


def test_play_leave_and_continue_on_another_device(browser, site):
    base, mode = site["url"], site["mode"]
    forget_progress(site)  # the other test may have listened: start as a newcomer to the book
    first = Watched(browser, site, 1280)
    page = first.page
    sign_in(page, base)
    books = page.locator("#books")
    books.get_by_role("button", name=TITLE).wait_for()
    assert "The Demo Audiobook" in books.inner_text()  # both modes make the demo books
    # A reload keeps the listener signed in: the session cookie, not a stored token.
    page.reload()
    page.get_by_role("searchbox").wait_for()
    assert page.evaluate("document.cookie") == ""
    assert not any("token" in key for key in page.evaluate("Object.keys(localStorage)"))
    page.get_by_role("searchbox").fill("Long")
    page.get_by_role("button", name="Search").click()
    books.get_by_role("button", name=TITLE).click()
    page.get_by_role("heading", name=TITLE).wait_for()
    assert not page.get_by_role("button", name="Continue at").is_visible()
    page.get_by_role("button", name="1. Long tone").click()
    wait_playing_past(page, 0.5)

    # Seek with the position slider; the seek is reported at once.
    page.locator("#seek").fill(str(SEEK_TO))
    wait_playing_past(page, SEEK_TO + 0.5)
    page.locator("#sync").filter(has_text="Saved").wait_for()
    page.get_by_label("Bookmark note").fill("Where the tone turns")
    page.get_by_role("button", name="Add bookmark").click()
    bookmark = page.locator("#bookmarks").get_by_role("button", name="Where the tone turns")
    bookmark.wait_for()
    shot(page, f"listen-{mode}-1-playing")

    # Leave while playing: only the report sent as the page goes has the last position.
    wait_playing_past(page, SEEK_TO + 2)
    left_at = current_time(page)
    page.goto("about:blank")
    deadline = time.monotonic() + 10
    while (progress := saved_position(site))["latest"]["position_seconds"] < left_at - 0.5:
        assert time.monotonic() < deadline, (left_at, progress)
        time.sleep(0.2)
    latest = progress["latest"]
    assert latest["chapter_id"] == site["chapter"]
    assert left_at - 0.5 <= latest["position_seconds"] <= left_at + 1.5, (left_at, latest)
    assert latest["device"].startswith("Web · ")
    first_device = latest["device"]
    assert first.close() == []

    # Another browser: another device. It offers to continue there, and continuing plays there.
    second = Watched(browser, site, 1280)
    page = second.page
    sign_in(page, base)
    shelf = page.locator("#shelf")
    shelf.get_by_role("button", name=TITLE).click()
    resume = page.get_by_role("button", name="Continue at Long tone")
    resume.wait_for()
    minute, second_ = divmod(int(latest["position_seconds"]), 60)
    assert f"{minute}:{second_:02d}" in resume.inner_text()
    assert first_device in resume.inner_text()
    resume.click()
    page.wait_for_function("() => !audio.paused", timeout=15000)
    started = current_time(page)
    assert abs(started - latest["position_seconds"]) < 1.5, (started, latest)
    wait_playing_past(page, started + 0.5)
    shot(page, f"listen-{mode}-2-continued")

    # Offline: the pause is kept and said so, and sent once the browser is back online.
    second.context.set_offline(True)
    page.get_by_role("button", name="Pause").click()
    page.locator("#sync").filter(has_text="Offline — will retry").wait_for()
    paused_at = round(current_time(page), 3)
    second.context.set_offline(False)
    page.locator("#sync").filter(has_text="Saved").wait_for(timeout=20000)
    assert saved_position(site)["latest"]["position_seconds"] == pytest.approx(paused_at, abs=0.01)

    # On to chapter 2, then back to chapter 1 on purpose: the furthest point is offered too.
    page.get_by_role("button", name="2. Second tone").click()
    page.get_by_role("heading", name="2. Second tone").wait_for()
    wait_playing_past(page, 0.3)
    page.get_by_role("button", name="1. Long tone").click()
    page.get_by_role("heading", name="1. Long tone").wait_for()
    wait_playing_past(page, 0.3)
    page.get_by_role("button", name="Pause").click()
    page.locator("#sync").filter(has_text="Saved 0:0").wait_for()
    page.get_by_role("button", name="← All books").click()
    page.locator("#shelf").get_by_role("button", name=TITLE).click()
    page.get_by_role("button", name="Continue at Long tone · 0:0").wait_for()
    page.get_by_role("button", name="Jump to the furthest point: Second tone").click()
    page.get_by_role("heading", name="2. Second tone").wait_for()
    wait_playing_past(page, 0.3)
    # The bookmark made on the first device jumps back there.
    page.locator("#bookmarks").get_by_role("button", name="Where the tone turns").click()
    page.get_by_role("heading", name="1. Long tone").wait_for()
    wait_playing_past(page, SEEK_TO - 1)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    page.reload()
    page.get_by_role("button", name="Sign in").wait_for()  # the session is over
    assert second.close() == []


def tab_to(page: Any, selector: str, text: str = "", presses: int = 40) -> None:
    """Tab until the element is focused, as a keyboard user would: it must be reachable."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(
            "([selector, text]) => document.activeElement.matches(selector)"
            " && document.activeElement.textContent.includes(text)",
            [selector, text],
        ):
            return
    raise AssertionError(f"{selector} {text!r} is not reachable with Tab")


def test_phone_width_and_keyboard(browser, site):
    phone = Watched(browser, site, 375)
    page = phone.page
    page.goto(f"{site['url']}/listen/")
    page.get_by_label("Username").wait_for()
    tab_to(page, "#username")
    page.keyboard.type("listener")
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.locator("#books").get_by_role("button", name=TITLE).wait_for()
    # Signing in ends with the focus on the search box, once the shelf has loaded too (the books
    # may show first).
    page.wait_for_function("() => document.activeElement.id === 'search'", timeout=10000)
    assert_fits(page, "library at 375 px")
    shot(page, f"listen-{site['mode']}-phone-1-library")
    tab_to(page, "#books button", TITLE)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=TITLE).wait_for()
    tab_to(page, "#chapters button")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !audio.paused", timeout=15000)
    tab_to(page, "#play")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")  # pauses
    page.wait_for_function("() => audio.paused", timeout=5000)
    assert_fits(page, "book with the player at 375 px")
    shot(page, f"listen-{site['mode']}-phone-2-player")
    assert phone.close() == []
