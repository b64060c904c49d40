"""The operator console in a real browser: Playwright driving Debian's chromium against a live
server, with CloudFront in moto. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import published_chapter
from tests.streaming.test_admin_cdn import distribution  # noqa: F401 (a fixture)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The operator database on SQLite and on PostgreSQL (tests/postgres.py).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("operator_database"),
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own database set-up
    # is synchronous and single-threaded, which is what Django's guard protects.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-operator-1")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


@pytest.fixture
def console_data(operator, as_editor, distribution):  # noqa: F811
    return published_chapter(as_editor, title="Prologue")


def test_operator_checks_listens_and_purges(browser, live_server, console_data):
    base = live_server.url
    chapter = console_data

    # With JavaScript: the audio preview must load and report a duration.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, base)
    page.get_by_role("link", name="Books", exact=True).click()
    page.get_by_role("link", name="Book", exact=True).click()  # the book's title
    page.wait_for_url(f"{base}/admin/catalogue/books/{chapter['book_id']}/")
    shot(page, "1-book")
    page.get_by_role("link", name="Prologue").click()
    page.wait_for_url(f"{base}/admin/catalogue/chapters/{chapter['id']}/")
    page.wait_for_function("document.getElementById('preview').duration > 0", timeout=15000)
    duration = page.evaluate("document.getElementById('preview').duration")
    assert duration > 0
    page.click("input[value='Check chapter']")
    page.wait_for_selector("#check-verdict")
    assert "Check passed" in page.inner_text("#check-verdict")
    shot(page, "2-chapter-checked")
    context.close()

    # Without JavaScript: the check and the purge are plain forms.
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    sign_in(page, base)
    page.goto(f"{base}/admin/catalogue/books/{chapter['book_id']}/")
    page.click("input[value='Check every chapter']")
    assert "All 1 chapters passed the check." in page.content()
    page.click("text=Invalidate this book in the CDN")
    page.click("input[value='Review']")
    assert f"/media/books/{chapter['book_id']}/*" in page.inner_text("#confirm-paths")
    shot(page, "3-confirm-invalidation")
    page.click("input[value='Yes, invalidate']")
    status = page.inner_text("#invalidation-status")
    assert status in {"In progress", "Completed"}
    invalidation_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.goto(f"{base}/admin/cdn/")
    assert invalidation_id in page.inner_text("#result_list")
    shot(page, "4-invalidation-history")
    context.close()


def test_console_at_phone_width(browser, live_server, console_data):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/catalogue/chapters/?status=ready")
    page.get_by_role("link", name="1. Prologue").click()
    page.wait_for_url(f"{live_server.url}/admin/catalogue/chapters/{console_data['id']}/")
    page.wait_for_load_state("load")
    # Nothing wider than the screen but the scrollable tables.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    shot(page, "5-phone-chapter")
    context.close()
