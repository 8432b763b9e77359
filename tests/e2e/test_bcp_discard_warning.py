"""A passkey on screen is not thrown away by a stray Escape: the representative is asked first."""

from tenants.models import BcpMapping
from tests.e2e.test_bcp_wizard import dialog, open_applications
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

BCP = "Business Continuity Plan (BCP)"


def _to_passkey(page, bcp_tenant):
    open_applications(page, "Classics Inc.")
    page.get_by_role("switch", name=BCP).click()
    dialog(page).get_by_role("button", name="Enable BCP").click()
    dialog(page).get_by_role("switch", name="BCP Configurations").check()
    dialog(page).get_by_role("switch", name="BCP Tenant Enablement").check()
    dialog(page).get_by_role("button", name="Next").click()
    dialog(page).get_by_label("Available Regions").select_option(label="Europe")
    dr_tenant = dialog(page).get_by_label("DR Tenant", exact=True)
    dr_tenant.locator("option", has_text="Classics Inc. BCP").wait_for(state="attached")
    dr_tenant.select_option(value=str(bcp_tenant.pk))
    dialog(page).get_by_role("button", name="Validate").click()
    dialog(page).get_by_text("Validation succeeded").wait_for()
    dialog(page).get_by_role("button", name="Generate Passkey").click()
    dialog(page).get_by_test_id("bcp-passkey").wait_for()


def test_escape_after_generate_passkey_asks_and_keeps_the_set_up_when_declined(page, sign_in, accessible, rep,
                                                                                password, tenant, bcp_tenant):
    sign_in(page, "rep", password)
    _to_passkey(page, bcp_tenant)
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert asked and "will not work" in asked[0]
    assert dialog(page).get_by_test_id("bcp-passkey").is_visible(), "declining keeps the pop-up and its passkey"
    accessible(page, where="pop-up with the passkey, after declining to discard it")
    dialog(page).get_by_role("button", name="Finish").click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="is mapped to the BCP tenant").wait_for()
    assert BcpMapping.objects.filter(primary=tenant, secondary=bcp_tenant).exists()


def test_escape_after_generate_passkey_discards_when_confirmed(page, sign_in, accessible, rep, password, tenant,
                                                              bcp_tenant):
    sign_in(page, "rep", password)
    _to_passkey(page, bcp_tenant)
    page.once("dialog", lambda d: d.accept())
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="detached")
    assert not BcpMapping.objects.exists()
    accessible(page, where="Applications & Features after discarding")
