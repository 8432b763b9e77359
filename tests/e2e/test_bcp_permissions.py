"""Seed page "Set Up Business Continuity Plan", step 3 (Enable BCP permissions for the primary tenant), in the
browser: the representative impersonates the primary tenant and grants its Administrator role View and Edit
for both BCP permissions; the tenant administrator then sees them on their role."""

import re

from playwright.sync_api import expect

from accounts.roles import ADMINISTRATOR
from accounts.services import role_permissions
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT
from tests.e2e.conftest import save_screenshot
from tests.factories import role_of

BCP_BOXES = [
    "BCP Configurations: View", "BCP Configurations: Edit",
    "BCP Tenant Enablement: View", "BCP Tenant Enablement: Edit",
]


def _open_role_bcp_section(page, accessible):
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Roles and Permissions").click()
    page.get_by_role("heading", name="Roles and Permissions").wait_for()
    accessible(page, where="Roles and Permissions")
    page.get_by_role("link", name=ADMINISTRATOR, exact=True).click()
    page.get_by_role("heading", name=ADMINISTRATOR, level=1).wait_for()
    expect(page.get_by_role("link", name="Permissions", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_role("navigation", name="Permission sections").get_by_role("link", name="BCP").click()
    page.get_by_role("heading", name="BCP", level=3).wait_for()


def test_representative_grants_bcp_permissions_by_impersonating_the_primary(
    page, sign_in, accessible, rep, tenant_admin, tenant, password
):
    sign_in(page, "rep", password)
    grant_bcp_permissions_by_impersonating(page, accessible, tenant=tenant)
    tenant_administrator_sees_the_bcp_permissions(page, sign_in, accessible, password=password)


def grant_bcp_permissions_by_impersonating(page, accessible, *, tenant):
    """Seed step 3 as the signed-in representative, ending the support session at the end."""
    # 1. In the list of tenants, select the primary tenant.
    page.goto("/tm/tenants/")
    page.get_by_role("heading", name="Tenants").wait_for()
    page.get_by_role("link", name="Classics Inc.", exact=True).click()
    page.get_by_role("heading", name="Classics Inc.", level=1).wait_for()

    # 2. Options menu → Impersonate & Support → confirm; the Admin application of the primary opens.
    options = page.locator("summary", has_text="Options")
    options.click()
    accessible(page, where="tenant page with the options menu open")
    page.get_by_role("link", name="Impersonate & Support").click()
    page.get_by_role("heading", name="Impersonate & Support").wait_for()
    accessible(page, where="Impersonate & Support confirmation")
    page.get_by_role("button", name="Confirm and open Admin").click()

    page.get_by_role("heading", name="Admin · Classics Inc.").wait_for()
    banner = page.locator(".banner-warning")
    expect(banner).to_contain_text("rep")
    expect(banner).to_contain_text("Classics Inc.")
    expect(banner.get_by_role("button", name=re.compile("^End"))).to_be_visible()
    accessible(page, where="Admin while impersonating")
    save_screenshot(page, "support-admin-banner.png")

    # 3. Roles and Permissions → Administrator; 4. Permissions tab → BCP.
    _open_role_bcp_section(page, accessible)
    for label in BCP_BOXES:
        expect(page.get_by_label(label)).not_to_be_checked()
    accessible(page, where="Permissions tab, BCP section")

    # 5. Enable View and Edit for both BCP permissions (ticking Edit ticks View as well).
    page.get_by_label("BCP Configurations: Edit").check()
    expect(page.get_by_label("BCP Configurations: View")).to_be_checked()
    page.get_by_label("BCP Tenant Enablement: View").check()
    page.get_by_label("BCP Tenant Enablement: Edit").check()

    # 6. Save.
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="are saved")).to_be_visible()
    for label in BCP_BOXES:
        expect(page.get_by_label(label)).to_be_checked()
    accessible(page, where="Permissions saved")
    save_screenshot(page, "roles-permissions-bcp.png")
    granted = role_permissions(role=role_of(tenant, ADMINISTRATOR))
    assert {CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT} <= granted

    # End the support session from the banner.
    page.locator(".banner-warning").get_by_role("button", name=re.compile("^End")).click()
    expect(page.get_by_role("status").filter(has_text="stopped supporting")).to_be_visible()
    expect(page.locator(".banner-warning")).to_have_count(0)
    accessible(page, where="tenant page after End")


def tenant_administrator_sees_the_bcp_permissions(page, sign_in, accessible, *, password):
    # The tenant administrator signs in and finds the permissions on their role.
    page.locator("summary.avatar, .user-menu summary").first.click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "alice", password)
    page.get_by_role("heading", name="Admin · Classics Inc.").wait_for()
    _open_role_bcp_section(page, accessible)
    for label in BCP_BOXES:
        expect(page.get_by_label(label)).to_be_checked()
    accessible(page, where="tenant administrator's role, BCP section")


def test_the_options_menu_in_a_list_row_works_from_the_keyboard(page, sign_in, accessible, rep, tenant,
                                                                other_tenant, password):
    sign_in(page, "rep", password)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Classics Inc.", exact=True))
    summary = row.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    link = row.get_by_role("link", name="Impersonate & Support")
    expect(link).to_be_visible()
    accessible(page, where="tenant list with a row's options menu open")
    save_screenshot(page, "tm-tenant-options.png")
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Escape")
    expect(link).to_be_hidden()
    expect(summary).to_be_focused()

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Impersonate & Support").wait_for()
    expect(page.get_by_role("heading", name=re.compile("Classics Inc."))).to_be_visible()


def test_tenant_administrator_creates_renames_and_deletes_a_role(page, sign_in, accessible, tenant_admin, password):
    sign_in(page, "alice", password)
    page.get_by_role("link", name="Roles and Permissions").click()
    page.get_by_role("link", name="Create role").click()
    page.get_by_role("heading", name="Create role").wait_for()
    accessible(page, where="Create role")

    page.get_by_label("Name").fill("supervisor")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_text("already has a role named")).to_be_visible()
    accessible(page, where="Create role with an error")

    page.get_by_label("Name").fill("Night shift")
    page.get_by_label("Description").fill("Covers the queues after 22:00")
    page.get_by_role("button", name="Create role").click()
    page.get_by_role("heading", name="Night shift", level=1).wait_for()
    expect(page.get_by_label("Configuration: View")).not_to_be_checked()
    page.get_by_label("Configuration: Edit").check()
    expect(page.get_by_label("Configuration: View")).to_be_checked()
    page.get_by_label("Configuration: View").uncheck()
    expect(page.get_by_label("Configuration: Edit")).not_to_be_checked()

    page.get_by_role("link", name="Details").click()
    accessible(page, where="Role details")
    page.get_by_label("Name").fill("Late shift")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Late shift", level=1).wait_for()

    page.get_by_role("link", name="Delete role").click()
    accessible(page, where="Delete role confirmation")
    page.get_by_role("button", name="Delete role").click()
    expect(page.get_by_role("status").filter(has_text="is deleted")).to_be_visible()
    expect(page.get_by_role("link", name="Late shift")).to_have_count(0)
