from tests.e2e.conftest import save_screenshot


def test_representative_creates_a_tenant_and_reads_its_id_on_general(page, sign_in, accessible, rep, password,
                                                                     region_eu):
    sign_in(page, "rep", password)
    page.get_by_role("link", name="Create tenant").first.click()
    accessible(page, where="Create tenant")
    page.get_by_label("Name").fill("Classics Inc. BCP")
    page.get_by_label("Region").select_option(label="Europe")
    page.get_by_role("button", name="Create tenant").click()

    page.get_by_role("heading", name="Classics Inc. BCP").wait_for()
    from tenants.models import Tenant

    tenant = Tenant.objects.get(name="Classics Inc. BCP")
    assert page.get_by_test_id("tenant-id").inner_text() == str(tenant.pk)
    assert page.get_by_role("status").filter(has_text="is created").count() == 1
    accessible(page, where="tenant General tab")
    save_screenshot(page, "tm-tenant-general.png")


def test_agent_signs_in_and_reads_account_on_my_profile(page, sign_in, accessible, agent, password):
    sign_in(page, "andy", password)
    page.get_by_role("button", name=agent.get_full_name()).or_(page.locator("summary")).first.click()
    page.get_by_role("link", name="My Profile").click()
    page.get_by_role("heading", name="General Information").wait_for()
    assert page.get_by_test_id("account-name").inner_text() == "Classics Inc."
    accessible(page, where="My Profile")
