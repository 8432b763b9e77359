"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

A missing browser is an error, never a skip: CI must run these.
"""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

# Playwright's sync API keeps an event loop on the test thread; Django's ORM is still used synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERIOUS = {"serious", "critical"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test`, which installs it.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Runs in every document before its own scripts (Playwright injects it past the page's CSP) and hands each
# violation of the Content-Security-Policy to the test, whichever page of the test it happened on.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__bcpCspViolation({via: "event", directive: e.effectiveDirective || e.violatedDirective,
    blocked: e.blockedURI, sample: e.sample, source: e.sourceFile + ":" + e.lineNumber,
    disposition: e.disposition, page: document.location.href});
}, true);
"""


@pytest.fixture
def csp_violations():
    """What the page fixture saw break the Content-Security-Policy; a test that provokes one on purpose
    reads it here and clears it, and the page fixture fails any other test that leaves one behind."""
    return []


def _is_csp_console_message(message) -> bool:
    return message.type in {"error", "warning"} and "Content Security Policy" in message.text


@pytest.fixture
def page(browser, live_server, transactional_db, csp_violations):
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.expose_binding("__bcpCspViolation", lambda _source, violation: csp_violations.append(violation))
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    page = context.new_page()

    def on_console(message):
        if _is_csp_console_message(message):
            csp_violations.append({"via": "console", "text": message.text, "page": page.url})

    page.on("console", on_console)
    page.set_default_timeout(15_000)
    yield page
    try:
        # One more turn of the page's event loop: a violation from the test's last step is delivered.
        page.evaluate("() => new Promise(resolve => setTimeout(resolve, 50))")
    except PlaywrightError:
        pass  # the page is gone (closed or navigating); what it reported has already arrived
    context.close()
    if csp_violations:
        found = "\n".join(f"- {violation}" for violation in csp_violations)
        pytest.fail(f"The page broke its Content-Security-Policy:\n{found}", pytrace=False)


@pytest.fixture
def sign_in():
    def _sign_in(page, username, password):
        page.goto("/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")

    return _sign_in


_axe = Axe()


def assert_accessible(page, *, where: str = ""):
    """Run axe on the page as it is now; fail on any serious or critical violation."""
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    summary = "\n".join(
        f"- [{v['impact']}] {v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})" for v in bad
    )
    assert not bad, f"axe found serious or critical violations on {where or page.url}:\n{summary}"


@pytest.fixture
def accessible():
    return assert_accessible


def save_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
