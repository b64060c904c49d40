"""The operator console in a real browser: Playwright driving Debian's chromium against a live
server (test settings, CloudFront in moto) and against the production-settings server that
`make run-aws` starts. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import chromium
from tests.helpers import chapter_create, published_chapter
from tests.servers import serving
from tests.streaming.test_admin_cdn import distribution  # noqa: F401 (a fixture)

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# The operator database on SQLite and on PostgreSQL (tests/postgres.py).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("operator_database"),
]


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, password: str = "pw-operator-1") -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


# Every button-like label on the page, and the lines its text takes: a label wrapped mid-way
# has text boxes at two heights.
_BROKEN_LABELS = """() => {
  const labels = document.querySelectorAll(
    '#content a.button, #content a.deletelink, #content input[type=submit], #content button');
  const broken = [];
  for (const element of labels) {
    if (!element.offsetParent) continue;
    if (element.tagName === 'INPUT') {
      if (getComputedStyle(element).whiteSpace !== 'nowrap' &&
          element.scrollWidth > element.clientWidth + 1) broken.push(element.value);
      continue;
    }
    const range = document.createRange();
    range.selectNodeContents(element);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    if (tops.size > 1) broken.push(element.textContent.trim());
  }
  return broken;
}"""


def csp_violations(page) -> list[str]:
    """What the page's Content-Security-Policy refuses, as chromium reports it, from now on."""
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return refused


def assert_tidy(page, where: str) -> None:
    """Nothing wider than the screen (tables scroll inside their box) and no label broken."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{where}: the page scrolls sideways ({widths})"
    assert page.evaluate(_BROKEN_LABELS) == [], f"{where}: a button label wraps"


def assert_styled(page, where: str) -> None:
    """The admin's stylesheets loaded (an unstyled console has a transparent header)."""
    sheets = page.evaluate(
        "[...document.querySelectorAll('link[rel=stylesheet]')]"
        ".map(l => [l.href, l.sheet ? l.sheet.cssRules.length : 0])"
    )
    assert sheets and all(rules > 0 for _, rules in sheets), f"{where}: {sheets}"
    header = page.evaluate("getComputedStyle(document.getElementById('header')).backgroundColor")
    assert header == "rgb(65, 118, 144)", f"{where}: header is {header}"


def contrast(page, selector: str) -> float:
    """WCAG contrast ratio of an element's text against its own background."""
    return page.evaluate(
        """(selector) => {
      const style = getComputedStyle(document.querySelector(selector));
      const lum = (c) => {
        const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(v => {
          v = v / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
      return (a + 0.05) / (b + 0.05);
    }""",
        selector,
    )


@pytest.fixture
def console_data(operator, as_editor, distribution):  # noqa: F811
    chapter = published_chapter(as_editor, title="Prologue")
    chapter_create(as_editor, {"id": chapter["book_id"]}, size=10, title="Not uploaded yet")
    return chapter


def test_operator_checks_listens_and_purges(browser, live_server, console_data):
    base = live_server.url
    chapter = console_data

    # With JavaScript: the audio preview must load and report a duration.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused = csp_violations(page)
    sign_in(page, base)
    page.get_by_role("link", name="Books", exact=True).click()
    page.get_by_role("link", name="Book", exact=True).click()  # the book's title
    page.wait_for_url(f"{base}/admin/catalogue/books/{chapter['book_id']}/")
    assert_styled(page, "book")
    assert_tidy(page, "book")
    # Django admin's own danger button: white on red, readable (WCAG AA: 4.5).
    assert contrast(page, "a.deletelink") >= 4.5
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
    assert refused == []  # the console needs nothing its policy refuses, the preview included
    context.close()

    # Without JavaScript: the check and the purge are plain forms.
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    sign_in(page, base)
    page.goto(f"{base}/admin/catalogue/books/{chapter['book_id']}/")
    page.click("input[value='Check every chapter']")
    assert "All 1 chapters passed the check. 1 not checked" in page.content()
    assert "not checked: not uploaded yet" in page.inner_text("#result_list")
    page.click("text=Invalidate this book in the CDN")
    page.click("input[value='Review']")
    assert f"/media/books/{chapter['book_id']}/*" in page.inner_text("#confirm-paths")
    shot(page, "3-confirm-invalidation")
    page.click("input[value='Yes, invalidate']")
    status = page.inner_text("#invalidation-status")
    assert status in {"In progress", "Completed"}
    invalidation_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.goto(f"{base}/admin/cdn/")
    history = page.inner_text("#result_list")
    assert invalidation_id in history
    assert f"/media/books/{chapter['book_id']}/*" in history and "operator" in history
    assert_tidy(page, "invalidation history")
    shot(page, "4-invalidation-history")
    page.goto(f"{base}/admin/catalogue/chapters/?status=pending_upload")
    listed = page.inner_text("#result_list")
    assert "Pending upload" in listed and "pending_upload" not in listed
    assert page.get_by_role("link", name="Book", exact=True).count() == 1  # the book's title
    context.close()


PHONE_PAGES = [
    "/admin/",
    "/admin/catalogue/books/",
    "/admin/catalogue/books/{book}/",
    "/admin/catalogue/chapters/?status=ready",
    "/admin/catalogue/chapters/?status=pending_upload",
    "/admin/catalogue/chapters/{chapter}/",
    "/admin/cdn/",
    "/admin/cdn/new/?book={book}",
]


def test_console_at_phone_width(browser, live_server, console_data):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/catalogue/chapters/?status=ready")
    page.get_by_role("link", name="1. Prologue").click()
    page.wait_for_url(f"{live_server.url}/admin/catalogue/chapters/{console_data['id']}/")
    page.wait_for_load_state("load")
    shot(page, "5-phone-chapter")
    page.click("input[value='Check chapter']")
    for path in PHONE_PAGES:
        url = path.format(book=console_data["book_id"], chapter=console_data["id"])
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        assert_tidy(page, f"{url} at 375 px")
    page.goto(f"{live_server.url}/admin/catalogue/books/{console_data['book_id']}/")
    with page.expect_navigation():  # a plain form POST: measure the page it answers
        page.click("input[value='Check every chapter']")
    page.wait_for_load_state("load")
    assert_tidy(page, "book check at 375 px")
    shot(page, "6-phone-book-checked")
    context.close()


@pytest.fixture(scope="module")
def run_aws(tmp_path_factory):
    """`make run-aws`: production settings, static files as WhiteNoise serves them on Lambda."""
    password = "pw-run-aws-browser-1"
    with serving(
        "run-aws", tmp_path_factory.mktemp("run-aws"), VOJ_DEMO_PASSWORD=password
    ) as server:
        yield server, password


@pytest.mark.parametrize("width", [1280, 375])
def test_console_is_styled_under_make_run_aws(browser, run_aws, width):
    server, password = run_aws
    context = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=width < 500)
    page = context.new_page()
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    refused = csp_violations(page)
    sign_in(page, server.url, password)
    for path in ("/admin/", "/admin/catalogue/books/", "/admin/catalogue/chapters/", "/admin/cdn/"):
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        assert_styled(page, f"{path} under run-aws")
        assert_tidy(page, f"{path} under run-aws at {width} px")
    assert failed == []  # every stylesheet, script and image answered
    assert refused == []
    shot(page, f"7-run-aws-{width}")
    context.close()
