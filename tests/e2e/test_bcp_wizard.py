"""The account representative sets up BCP in the browser, following set-up-bcp.txt step by step:
the primary through the pop-up (Validate, Generate Passkey, Finish, Save), then the BCP tenant."""

import re

from tenants.bcp.services import passkey_matches
from tenants.models import BcpMapping
from tests.e2e.conftest import save_screenshot
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

BCP = "Business Continuity Plan (BCP)"


def open_applications(page, name):
    page.goto("/tm/tenants/")
    page.get_by_role("link", name=name, exact=True).click()
    page.get_by_role("link", name="Applications & Features").click()
    page.get_by_role("heading", name="Applications & Features").wait_for()


def dialog(page):
    """The pop-up once htmx has settled it (bcp.js marks it), so its controls are wired up."""
    return page.get_by_role("dialog").and_(page.locator("[data-settled]"))


def test_representative_sets_up_the_pair_through_the_pop_up(page, sign_in, accessible, rep, password, tenant,
                                                            bcp_tenant):
    sign_in(page, "rep", password)
    set_up_the_pair(page, accessible, bcp_tenant=bcp_tenant)


def set_up_the_pair(page, accessible, *, bcp_tenant) -> str:
    """Seed steps 1 and 2 as the signed-in representative; returns the passkey shown once."""
    open_applications(page, "Classics Inc.")
    assert "Off." in page.get_by_test_id("bcp-state").inner_text()
    accessible(page, where="Applications & Features, BCP off")

    # Enable BCP and confirm. The pop-up takes the focus, and Escape closes it and gives the focus back.
    switch = page.get_by_role("switch", name=BCP)
    switch.click()
    dialog(page).get_by_role("heading", name="Turn on BCP for “Classics Inc.”?").wait_for()
    assert dialog(page).evaluate("d => d.contains(document.activeElement)")
    accessible(page, where="BCP confirmation")
    page.keyboard.press("Escape")
    dialog(page).wait_for(state="detached")
    assert switch.evaluate("el => el === document.activeElement")
    switch.press("Enter")
    dialog(page).get_by_role("button", name="Enable BCP").click()

    # Step 1: BCP Configurations and BCP Tenant Enablement, then Next.
    dialog(page).get_by_role("heading", name="BCP settings").wait_for()
    dialog(page).get_by_role("switch", name="BCP Configurations").check()
    dialog(page).get_by_role("switch", name="BCP Tenant Enablement").check()
    accessible(page, where="BCP settings")
    dialog(page).get_by_role("button", name="Next").click()

    # Step 2: Available Regions, DR Tenant, Validate.
    dialog(page).get_by_role("heading", name="Configure Settings").wait_for()
    generate = dialog(page).get_by_role("button", name="Generate Passkey")
    finish = dialog(page).get_by_role("button", name="Finish")
    assert generate.is_disabled() and finish.is_disabled()
    dialog(page).get_by_label("Available Regions").select_option(label="Europe")
    dr_tenant = dialog(page).get_by_label("DR Tenant", exact=True)
    dr_tenant.locator("option", has_text="Classics Inc. BCP").wait_for(state="attached")
    dr_tenant.select_option(value=str(bcp_tenant.pk))
    accessible(page, where="Configure Settings")
    dialog(page).get_by_role("button", name="Validate").click()
    dialog(page).get_by_text("Validation succeeded").wait_for()
    assert not BcpMapping.objects.exists()
    accessible(page, where="Configure Settings, validated")

    # Generate Passkey: shown once, grouped, with a copy button.
    generate.click()
    passkey_node = dialog(page).get_by_test_id("bcp-passkey")
    passkey_node.wait_for()
    passkey = passkey_node.inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){6}", passkey)
    dialog(page).get_by_role("button", name="Copy passkey").click()
    assert page.evaluate("navigator.clipboard.readText()") == passkey
    assert dialog(page).get_by_text("as you would a password").is_visible()
    accessible(page, where="passkey")
    save_screenshot(page, "tm-bcp-passkey.png")

    # Finish, then Save on the tab.
    finish.click()
    page.get_by_role("heading", name="BCP set-up waiting for Save").wait_for()
    assert not BcpMapping.objects.exists(), "nothing is stored before Save"
    assert "Classics Inc. BCP" in page.get_by_test_id("bcp-pending-secondary").inner_text()
    accessible(page, where="pending BCP set-up")
    save_screenshot(page, "tm-bcp-pending-save.png")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="is mapped to the BCP tenant").wait_for()
    assert "On, as the primary tenant of the BCP tenant “Classics Inc. BCP”" in \
        page.get_by_test_id("bcp-state").inner_text()
    mapping = BcpMapping.objects.get()
    assert passkey_matches(mapping, passkey)
    accessible(page, where="Applications & Features, BCP on for the primary")
    save_screenshot(page, "tm-bcp-on-primary.png")

    # Then the BCP tenant: the mapping is already there, no passkey needed.
    open_applications(page, "Classics Inc. BCP")
    assert "already mapped as the BCP tenant of “Classics Inc.”" in page.get_by_test_id("bcp-state").inner_text()
    page.get_by_role("switch", name=BCP).click()
    dialog(page).get_by_role("button", name="Enable BCP").click()
    dialog(page).get_by_role("switch", name="BCP Configurations").check()
    dialog(page).get_by_role("switch", name="BCP Tenant Enablement").check()
    dialog(page).get_by_role("button", name="Next").click()
    dialog(page).get_by_text("The mapping is already configured").wait_for()
    assert dialog(page).get_by_test_id("bcp-primary-name").inner_text() == "Classics Inc."
    assert dialog(page).get_by_role("button", name="Generate Passkey").count() == 0
    accessible(page, where="Configure Settings on the BCP tenant")
    save_screenshot(page, "tm-bcp-secondary-mapping.png")
    dialog(page).get_by_role("button", name="Finish").click()
    page.get_by_role("heading", name="BCP set-up waiting for Save").wait_for()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="the BCP tenant of “Classics Inc.”").wait_for()
    assert "On, as the BCP tenant of “Classics Inc.”" in page.get_by_test_id("bcp-state").inner_text()
    accessible(page, where="Applications & Features, BCP on for the BCP tenant")
    mapping.refresh_from_db()
    assert mapping.secondary_enabled and passkey_matches(mapping, passkey)
    return passkey


def test_validation_problems_show_in_the_pop_up(page, sign_in, accessible, rep, password, tenant, region_eu):
    sign_in(page, "rep", password)
    open_applications(page, "Classics Inc.")
    page.get_by_role("switch", name=BCP).click()
    dialog(page).get_by_role("button", name="Enable BCP").click()
    dialog(page).get_by_role("switch", name="BCP Configurations").check()
    dialog(page).get_by_role("button", name="Next").click()
    dialog(page).get_by_label("Available Regions").select_option(label="Europe")
    dialog(page).get_by_text(re.compile(r"\d+ tenants? in Europe")).wait_for()  # the DR Tenant list followed
    dialog(page).get_by_label("DR tenant ID (paste instead)").fill(str(tenant.pk))
    dialog(page).get_by_role("button", name="Validate").click()
    alert = dialog(page).get_by_role("alert")
    alert.wait_for()
    assert "the primary tenant itself" in alert.inner_text()
    assert dialog(page).get_by_role("button", name="Generate Passkey").is_disabled()
    accessible(page, where="validation problems")
    dialog(page).get_by_role("button", name="Cancel").click()
    dialog(page).wait_for(state="detached")
    assert not BcpMapping.objects.exists()


def test_a_new_passkey_from_the_bcp_tenant_and_turning_bcp_off(page, sign_in, accessible, rep, password, tenant,
                                                               bcp_tenant):
    from tests.tenants.bcp_helpers import make_mapping

    mapping, old = make_mapping(tenant, bcp_tenant)
    sign_in(page, "rep", password)
    open_applications(page, "Classics Inc. BCP")

    page.get_by_role("button", name="Generate new passkey").click()
    dialog(page).get_by_role("heading", name="Generate a new passkey?").wait_for()
    assert "stops working at once" in dialog(page).inner_text()
    accessible(page, where="new passkey confirmation")
    dialog(page).get_by_role("button", name="Generate new passkey").click()
    new = dialog(page).get_by_test_id("bcp-passkey").inner_text().strip()
    accessible(page, where="new passkey")
    mapping.refresh_from_db()
    assert passkey_matches(mapping, new) and not passkey_matches(mapping, old)
    dialog(page).get_by_role("link", name="Done").click()

    open_applications(page, "Classics Inc.")
    page.get_by_role("switch", name=BCP).click()
    dialog(page).get_by_role("heading", name="Turn off BCP for “Classics Inc.”?").wait_for()
    accessible(page, where="turn BCP off confirmation")
    dialog(page).get_by_role("button", name="Turn off BCP").click()
    page.get_by_role("status").filter(has_text="are no longer mapped").wait_for()
    assert "Off." in page.get_by_test_id("bcp-state").inner_text()
    assert not BcpMapping.objects.exists()


def test_the_wizard_also_works_as_plain_pages(page, sign_in, accessible, rep, password, tenant, bcp_tenant):
    """Opened by its address (or without htmx) each step is a page of its own, with the same labels."""
    sign_in(page, "rep", password)
    page.goto(f"/tm/tenants/{tenant.pk}/bcp/enable/")
    accessible(page, where="BCP confirmation page")
    page.get_by_role("button", name="Enable BCP").click()
    page.get_by_role("switch", name="BCP Configurations").check()
    page.get_by_role("switch", name="BCP Tenant Enablement").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("DR tenant ID (paste instead)").fill(str(bcp_tenant.pk))
    page.get_by_label("Available Regions").select_option(label="Europe")
    page.get_by_text(re.compile(r"\d+ tenants? in Europe")).wait_for()
    page.get_by_role("button", name="Validate").click()
    page.get_by_text("Validation succeeded").wait_for()
    accessible(page, where="Configure Settings page")
    page.get_by_role("button", name="Generate Passkey").click()
    passkey = page.get_by_test_id("bcp-passkey").inner_text().strip()
    page.get_by_role("button", name="Finish").click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="is mapped to the BCP tenant").wait_for()
    assert passkey_matches(BcpMapping.objects.get(), passkey)
