"""The whole emergency, in two browsers: an agent works in Classics Inc.; its administrator opens BC Enablement,
enters a wrong passkey (an error, nothing changes), then the right one. She is signed out; the agent's next click
lands on the sign-in page, which says why, and the same username and password take him to "Classics Inc. BCP",
with the backup banner on every page. The administrator signs in to the BCP tenant's copy of her account and
switches back; the agent is back on Classics Inc. Axe on every page, then BC Enablement and the switched sign-in
page in German, with a third switch made in German."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from sync.models import SyncRun
from sync.services import sync_run_execute
from tests.e2e.conftest import save_screenshot
from tests.enablement.conftest import (  # noqa: F401
    PASSKEY,
    _fresh_routing_cache,
    configured,
    mapping,
    sync_enabled,
    synced,
)
from tests.factories import PASSWORD
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

PRIMARY_NAME, BCP_NAME = "Classics Inc.", "Classics Inc. BCP"
TOGGLE = "Enable/Disable BCP Tenant"
CONFIRM = "I understand that every user of both tenants is signed out and must sign in again."
# The sign-in page of a browser the switch signed out names the tenant it lands on.
TO_BCP = ("Your organization switched to its BCP tenant “%(tenant)s”, so everyone was signed out. Sign in again with "
          "the same username and password: you land on “%(tenant)s”.")
BACK = ("Your organization switched back to its primary tenant “%(tenant)s”, so everyone was signed out. Sign in "
        "again with the same username and password: you land on “%(tenant)s”.")
MESSAGE = "Use the backup phone line until noon."
WRONG = "That passkey is not right, and nothing was changed."
SIGN_IN_URL = re.compile(r"/sign-in/(\?|$)")


def _german(text):
    with translation.override("de"):
        return translation.gettext(text)


@pytest.fixture
def admin_page(browser, live_server, page):
    """A second browser, made like the `page` fixture's: the administrator's, beside the agent's `page`."""
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 860})
    admin = context.new_page()
    admin.set_default_timeout(15_000)
    yield admin
    context.close()


def _to_my_profile(page):
    """What a person clicks: the user menu in the header, then My Profile."""
    page.locator("header .user-menu summary").click()
    page.get_by_role("link", name="My Profile", exact=True).click()
    page.wait_for_load_state("networkidle")


def _assert_on_profile(page, tenant_name, *, bcp: bool):
    expect(page).to_have_url(re.compile(r"/profile/$"))
    expect(page.get_by_test_id("account-name")).to_have_text(tenant_name)
    _assert_banner(page, bcp=bcp)


def _assert_banner(page, *, bcp: bool):
    banner = page.get_by_test_id("bcp-banner")
    if bcp:
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(f"You are working in {BCP_NAME}, the backup (BCP) system")
    else:
        expect(banner).to_have_count(0)


def _open_enablement(page, label="BC Enablement", *, german=False):
    menu = page.get_by_role("navigation", name=_german("Admin") if german else "Admin", exact=True)
    menu.get_by_role("link", name=label, exact=True).click()
    page.get_by_role("heading", name=label, level=1).wait_for()


def _active_tenant(page):
    return page.get_by_test_id("active-tenant").locator(".active-now")


def _fill_switch(page, *, on: bool, passkey: str, german: bool = False):
    tr = _german if german else (lambda text: text)
    page.get_by_role("switch", name=tr(TOGGLE)).set_checked(on)
    page.get_by_label(re.compile(rf"^{re.escape(tr('Passkey'))}\W*$")).fill(passkey)  # "Passkey *"
    page.get_by_role("checkbox", name=tr(CONFIRM)).check()
    page.get_by_role("button", name=tr("Submit"), exact=True).click()
    page.wait_for_load_state("networkidle")


def _sign_in_here(page, username, *, german: bool = False):
    """Signs in on the sign-in page the browser is on (keeping its `next`)."""
    tr = _german if german else (lambda text: text)
    page.get_by_label(tr("Username")).fill(username)
    page.get_by_label(tr("Password")).fill(PASSWORD)
    page.get_by_role("button", name=tr("Sign in")).click()
    page.wait_for_load_state("networkidle")


def _assert_switched_sign_in(page, accessible, *, where, german=False, back=False):
    """The session was signed out by the switch: the sign-in page says why, and where the person lands."""
    text, tenant = (BACK, PRIMARY_NAME) if back else (TO_BCP, BCP_NAME)
    expect(page).to_have_url(re.compile(r"/sign-in/\?reason=switched"))
    expect(page.get_by_test_id("signed-out-switched")).to_have_text(
        (_german(text) if german else text) % {"tenant": tenant})
    expect(page.get_by_role("heading", name=_german("Sign in") if german else "Sign in", level=1)).to_be_visible()
    accessible(page, where=where)


def _set_language(page, value, accessible, where):
    _to_my_profile(page)
    page.get_by_role("combobox", name="Language").select_option(value)
    page.get_by_role("button", name="Save language").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", value)
    accessible(page, where=where)


def test_the_whole_emergency_switch_to_the_bcp_tenant_and_back(page, admin_page, sign_in, accessible, synced):  # noqa: F811
    agent, admin = page, admin_page

    # 1. The agent works in Classics Inc.
    sign_in(agent, "andy", PASSWORD)
    _assert_on_profile(agent, PRIMARY_NAME, bcp=False)
    accessible(agent, where="My Profile of the agent, primary")

    # 2. The administrator opens BC Enablement from the Admin menu: the primary is active, every check green.
    sign_in(admin, "alice", PASSWORD)
    expect(admin).to_have_url(re.compile(r"/admin/$"))
    accessible(admin, where="Admin overview, primary")
    _open_enablement(admin)
    expect(_active_tenant(admin)).to_contain_text(PRIMARY_NAME)
    expect(_active_tenant(admin)).to_contain_text("Primary")
    expect(_active_tenant(admin)).not_to_contain_text(BCP_NAME)
    checks = admin.locator("ul.checks > li")
    expect(checks).to_have_count(9)  # the pair and its sync (7), the BCP tenant's region and status
    expect(admin.locator("ul.checks > li.check-failed")).to_have_count(0)
    expect(admin.get_by_test_id("check-sync_fresh")).to_contain_text("The last sync succeeded in time")
    expect(admin.get_by_test_id("check-switch_back")).to_contain_text(f"on “{BCP_NAME}” holds BCP Tenant")
    expect(admin.get_by_role("switch", name=TOGGLE)).not_to_be_checked()
    _assert_banner(admin, bcp=False)
    accessible(admin, where="BC Enablement, primary active")
    save_screenshot(admin, "bc-enablement.png")

    # A wrong passkey: the error stands at the passkey, the page still shows the primary as active.
    _fill_switch(admin, on=True, passkey="WRONG-PASS-KEY0")
    expect(admin).to_have_url(re.compile(r"/admin/bc-enablement/switch/$"))
    error = admin.locator("#id_passkey_error")
    expect(error).to_contain_text(WRONG)
    expect(error).to_contain_text("4 more tries")
    expect(admin.get_by_label(re.compile(r"^Passkey\W*$"))).to_have_attribute("aria-invalid", "true")
    expect(_active_tenant(admin)).to_contain_text(PRIMARY_NAME)
    expect(_active_tenant(admin)).not_to_contain_text(BCP_NAME)
    accessible(admin, where="BC Enablement, wrong passkey")
    synced.refresh_from_db()
    assert (synced.active_side, synced.routing_epoch) == ("primary", 0)
    # Nothing changed for the agent either: he is still signed in to Classics Inc.
    agent.reload()
    _assert_on_profile(agent, PRIMARY_NAME, bcp=False)

    # The right passkey: the administrator is signed out and told what happened.
    _fill_switch(admin, on=True, passkey=PASSKEY)
    expect(admin).to_have_url(SIGN_IN_URL)
    expect(admin.get_by_role("status").filter(has_text=f"The BCP tenant “{BCP_NAME}” is active now.")).to_be_visible()
    accessible(admin, where="Sign-in after the switch to the BCP tenant (administrator)")
    synced.refresh_from_db()
    assert (synced.active_side, synced.routing_epoch) == ("secondary", 1)

    # 3. The agent's next click lands on the sign-in page, which says why; the same credentials take him to BCP.
    _to_my_profile(agent)
    _assert_switched_sign_in(agent, accessible, where="Sign-in, switched message (agent)")
    save_screenshot(agent, "sign-in-switched.png")
    _sign_in_here(agent, "andy")
    _assert_on_profile(agent, BCP_NAME, bcp=True)
    # The first page after signing in says, once, where he is now and who switched.
    notice = agent.get_by_test_id("switch-notice")
    expect(notice).to_contain_text(f"Instead of {PRIMARY_NAME}, you are working in {BCP_NAME}, its backup system.")
    expect(notice).to_contain_text("Alice Admin switched just now")
    expect(agent.locator("header .user-menu summary")).to_contain_text(BCP_NAME)
    accessible(agent, where="My Profile of the agent, BCP tenant")
    agent.goto("/")
    expect(agent.get_by_test_id("switch-notice")).to_have_count(0)
    _assert_on_profile(agent, BCP_NAME, bcp=True)
    _to_my_profile(agent)
    _assert_on_profile(agent, BCP_NAME, bcp=True)

    # 4. The administrator signs in again: the BCP tenant's copy of her account, and she switches back from there.
    _sign_in_here(admin, "alice")
    expect(admin).to_have_url(re.compile(r"/admin/$"))
    expect(admin.get_by_role("navigation", name="Admin", exact=True).locator(".sidebar-tenant")).to_have_text(
        BCP_NAME)
    _assert_banner(admin, bcp=True)
    accessible(admin, where="Admin overview, BCP tenant")
    _to_my_profile(admin)
    _assert_on_profile(admin, BCP_NAME, bcp=True)
    accessible(admin, where="My Profile of the administrator, BCP tenant")
    admin.get_by_role("navigation", name="Applications").get_by_role("link", name="Admin", exact=True).click()
    _open_enablement(admin)
    _assert_banner(admin, bcp=True)
    expect(_active_tenant(admin)).to_contain_text(BCP_NAME)
    expect(_active_tenant(admin)).to_contain_text("BCP tenant")
    expect(admin.get_by_text("You are on the BCP tenant. You can switch back to the primary from here.")
           ).to_be_visible()
    expect(admin.get_by_test_id("active-tenant")).to_contain_text("switched by Alice Admin")
    expect(admin.get_by_role("switch", name=TOGGLE)).to_be_checked()
    accessible(admin, where="BC Enablement, BCP tenant active")
    # A message for everyone in the pair, written on the BCP side: a banner on the agent's pages too.
    admin.get_by_role("textbox", name=re.compile(r"^Message for everyone in the pair")).fill(MESSAGE)
    admin.get_by_role("button", name="Show the message").click()
    admin.wait_for_load_state("networkidle")
    expect(admin.get_by_test_id("pair-message")).to_contain_text(MESSAGE)
    accessible(admin, where="BC Enablement with the pair's message")
    agent.goto("/")
    expect(agent.get_by_test_id("pair-message")).to_contain_text(MESSAGE)
    accessible(agent, where="The pair's message on the agent's page")
    _fill_switch(admin, on=False, passkey=PASSKEY)
    expect(admin).to_have_url(SIGN_IN_URL)
    expect(admin.get_by_role("status").filter(
        has_text=f"The primary tenant “{PRIMARY_NAME}” is active again.")).to_be_visible()
    accessible(admin, where="Sign-in after switching back (administrator)")
    synced.refresh_from_db()
    assert (synced.active_side, synced.routing_epoch) == ("primary", 2)
    # The switch back queued the forward sync that makes the BCP tenant's copies the primary's again. This test has
    # no worker: it runs the run as one would, so that no sync is still waiting when she switches again below.
    run = SyncRun.objects.filter(mapping=synced).order_by("-id").first()
    assert (run.trigger, run.status) == (SyncRun.Trigger.SWITCH_BACK, SyncRun.Status.QUEUED)
    assert sync_run_execute(run_id=run.pk).status == SyncRun.Status.SUCCEEDED

    # The agent's next click: sign in again, and he is back on Classics Inc., without the banner.
    agent.reload()
    _assert_switched_sign_in(agent, accessible, where="Sign-in after switching back, switched message (agent)",
                             back=True)
    expect(agent.get_by_test_id("pair-message")).to_contain_text(MESSAGE)  # on the sign-in page too
    _sign_in_here(agent, "andy")
    _assert_on_profile(agent, PRIMARY_NAME, bcp=False)
    accessible(agent, where="My Profile of the agent, primary again")

    # 5. In German: both choose Deutsch on My Profile; the administrator switches once more, in German.
    _set_language(agent, "de", accessible, where="Mein Profil of the agent (de)")
    expect(agent.get_by_test_id("account-name")).to_have_text(PRIMARY_NAME)
    _sign_in_here(admin, "alice")
    _set_language(admin, "de", accessible, where="Mein Profil of the administrator (de)")
    admin.get_by_role("navigation", name=_german("Applications")).get_by_role(
        "link", name=_german("Admin"), exact=True).click()
    _open_enablement(admin, "BC-Aktivierung", german=True)
    expect(admin.get_by_role("heading", name=_german("Active tenant"), level=2)).to_be_visible()
    expect(_active_tenant(admin)).to_contain_text(PRIMARY_NAME)
    expect(_active_tenant(admin)).to_contain_text(_german("Primary"))
    expect(admin.locator("ul.checks > li.check-failed")).to_have_count(0)
    expect(admin.get_by_role("switch", name=_german(TOGGLE))).not_to_be_checked()
    accessible(admin, where="BC-Aktivierung (de)")
    _fill_switch(admin, on=True, passkey=PASSKEY, german=True)
    expect(admin).to_have_url(SIGN_IN_URL)
    expect(admin.locator("html")).to_have_attribute("lang", "de")
    accessible(admin, where="Anmelden after the switch (de, administrator)")

    agent.reload()
    expect(agent.locator("html")).to_have_attribute("lang", "de")
    _assert_switched_sign_in(agent, accessible, where="Anmelden, switched message (de, agent)", german=True)
    _sign_in_here(agent, "andy", german=True)
    expect(agent).to_have_url(re.compile(r"/profile/$"))
    expect(agent.get_by_test_id("account-name")).to_have_text(BCP_NAME)
    expect(agent.get_by_test_id("bcp-banner")).to_be_visible()
    accessible(agent, where="Mein Profil of the agent, BCP tenant (de)")
    synced.refresh_from_db()
    assert (synced.active_side, synced.routing_epoch) == ("secondary", 3)
