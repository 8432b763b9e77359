"""The emergency in a browser, with the primary's region really gone (issue 17): the app runs as in production on
a server per region (tests/regions/deployment.py), North America's server -- Classics Inc.'s -- is stopped while
the agent and the administrator are signed in. The agent's page meets the dead region and names it; the
administrator signs in again, BC Enablement says North America's database is not answering and since when, a
wrong passkey changes nothing, the right one switches; the agent signs in with his usual username and password,
lands on Classics Inc. BCP, and My Profile shows it. Axe on the pages a person reads during the outage."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, save_screenshot
from tests.regions.deployment import PASSKEY, PASSWORD

pytestmark = pytest.mark.region_servers

PRIMARY, BCP = "Classics Inc.", "Classics Inc. BCP"
TOGGLE = "Enable/Disable BCP Tenant"
CONFIRM = "I understand that every user of both tenants is signed out and must sign in again."
WRONG = "That passkey is not right, and nothing was changed."
DOWN = re.compile(r"The database of North America is not answering, since \d{4}-\d\d-\d\d \d\d:\d\d UTC\.")


@pytest.fixture
def people(browser, app):
    """Two browsers on the deployed app: the agent's and the administrator's."""
    contexts = [browser.new_context(base_url=app.url, locale="en-US", viewport={"width": 1280, "height": 860})
                for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.set_default_timeout(15_000)
    yield pages
    for context in contexts:
        context.close()


def _sign_in(page, username):
    if "/sign-in/" not in page.url:
        page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def _my_profile(page):
    page.locator("header .user-menu summary").click()
    page.get_by_role("link", name="My Profile", exact=True).click()
    page.wait_for_load_state("networkidle")


def _switch(page, passkey):
    page.get_by_role("switch", name=TOGGLE).set_checked(True)
    page.get_by_label(re.compile(r"^Passkey\W*$")).fill(passkey)
    page.get_by_role("checkbox", name=CONFIRM).check()
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_load_state("networkidle")


def test_the_emergency_in_a_browser_with_the_primarys_server_stopped(deployment, people, accessible):
    assert CHROMIUM  # the browser fixture fails when Chromium is missing: never skipped for that
    agent, admin = people

    # At work on Classics Inc.
    _sign_in(agent, "agent")
    _my_profile(agent)
    expect(agent.get_by_test_id("account-name")).to_have_text(PRIMARY)
    _sign_in(admin, "admin")
    expect(admin).to_have_url(re.compile(r"/admin/$"))
    admin.get_by_role("navigation", name="Admin", exact=True).get_by_role("link", name="Teams", exact=True).click()
    expect(admin.get_by_role("heading", name="Teams", level=1)).to_be_visible()

    deployment.na.stop()

    # The administrator's next click meets the dead region: a page that names it, not an error.
    admin.reload()
    expect(admin.get_by_role("heading", level=1)).to_have_text("North America is not answering")
    accessible(admin, where="the region-down page")

    # From her start page to BC Enablement, which says so, and since when; no readiness check fails because of it.
    admin.get_by_role("link", name="Go to your start page").click()
    admin.get_by_role("navigation", name="Admin", exact=True).get_by_role("link", name="BC Enablement",
                                                                          exact=True).click()
    admin.get_by_role("heading", name="BC Enablement", level=1).wait_for()
    expect(admin.get_by_test_id("region-down-na")).to_contain_text(DOWN)
    expect(admin.locator("ul.checks > li.check-failed")).to_have_count(0)
    accessible(admin, where="BC Enablement, North America down")
    save_screenshot(admin, "bc-enablement-region-down.png")

    # A wrong passkey changes nothing; the right one switches and signs her out.
    _switch(admin, "WRONG-PASS-KEY0")
    expect(admin.locator("#id_passkey_error")).to_contain_text(WRONG)
    expect(admin.get_by_test_id("active-tenant").locator(".active-now")).to_contain_text(PRIMARY)
    _switch(admin, PASSKEY)
    expect(admin).to_have_url(re.compile(r"/sign-in/(\?|$)"))
    expect(admin.get_by_role("status").filter(has_text=f"The BCP tenant “{BCP}” is active now.")).to_be_visible()

    # The agent's next click: sign in again, with the same username and password, and land on the backup.
    _my_profile(agent)
    expect(agent).to_have_url(re.compile(r"/sign-in/\?reason=switched"))
    _sign_in(agent, "agent")
    _my_profile(agent)
    expect(agent.get_by_test_id("account-name")).to_have_text(BCP)
    expect(agent.get_by_test_id("bcp-banner")).to_contain_text(f"You are working in {BCP}, the backup (BCP) system")
    accessible(agent, where="My Profile of the agent on the BCP tenant, North America down")
    save_screenshot(agent, "profile-on-bcp-region-down.png")
