"""The browser keeps to the Content-Security-Policy, and the page fixture notices when it does not."""

import time

from tests.e2e.test_bcp_wizard import dialog, open_applications

# What an injected piece of markup would try: an inline style attribute and an inline script.
INJECT = """() => {
  const box = document.createElement("div");
  box.innerHTML = '<span id="injected" style="color: rgb(255, 0, 0)">injected</span>';
  document.body.append(box);
  const script = document.createElement("script");
  script.textContent = "window.injectedScriptRan = true;";
  document.head.append(script);
}"""


def _wait_for(violations, count, seconds=5.0):
    deadline = time.monotonic() + seconds
    while len(violations) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_page_fixture_records_an_inline_style_and_script_that_the_policy_blocks(page, csp_violations):
    page.goto("/sign-in/")
    page.evaluate(INJECT)
    page.wait_for_timeout(100)  # lets Playwright deliver the page's reports to Python
    _wait_for([v for v in csp_violations if v["via"] == "event"], 2)

    events = [v for v in csp_violations if v["via"] == "event"]
    assert {v["directive"] for v in events} >= {"style-src-attr", "script-src-elem"}, csp_violations
    assert all(v["disposition"] == "enforce" and v["page"].endswith("/sign-in/") for v in events)
    assert any(v["via"] == "console" for v in csp_violations), "Chromium's console report was not seen"
    # Blocked, not only reported: the script did not run and the style did not apply.
    assert page.evaluate("window.injectedScriptRan") is None
    assert page.locator("#injected").evaluate("el => getComputedStyle(el).color") != "rgb(255, 0, 0)"
    csp_violations.clear()  # expected here; the fixture would fail the test on them


def test_htmx_search_and_the_bcp_pop_up_keep_to_the_policy(page, sign_in, rep, password, tenant, region_eu,
                                                          csp_violations):
    sign_in(page, "rep", password)
    assert page.evaluate("[htmx.config.allowEval, htmx.config.includeIndicatorStyles]") == [False, False]
    assert page.locator("style").count() == 0

    # The search box: htmx sends it as you type and swaps the table in place.
    with page.expect_response(lambda response: "q=Classics" in response.url):
        page.get_by_role("searchbox").or_(page.get_by_label("Search")).first.fill("Classics")
    page.get_by_role("link", name="Classics Inc.", exact=True).wait_for()

    # The BCP pop-up: htmx loads each step into the dialog.
    open_applications(page, "Classics Inc.")
    page.get_by_role("switch", name="Business Continuity Plan (BCP)").click()
    dialog(page).get_by_role("button", name="Enable BCP").click()
    dialog(page).get_by_role("heading", name="BCP settings").wait_for()
    page.keyboard.press("Escape")
    dialog(page).wait_for(state="detached")

    page.wait_for_timeout(100)
    assert csp_violations == []
