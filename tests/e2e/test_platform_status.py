"""A representative puts Classics Inc. in outage from its TM page; its agent then sees the outage page instead of
My Profile, can still subscribe to status alerts, and is back on their pages when the outage is over. Axe on
every page."""

from django.core import mail

from audit.services import Actor
from status.models import StatusSubscription
from status.services import platform_status_set
from tests.e2e.conftest import save_screenshot


def test_an_outage_from_tm_to_the_agents_screen_and_back(page, sign_in, accessible, rep, agent, tenant, password):
    sign_in(page, "rep", password)
    page.goto(f"/tm/tenants/{tenant.pk}/")
    page.get_by_role("link", name="See or set this tenant’s platform status").click()
    page.get_by_role("heading", name="Platform status of Classics Inc.").wait_for()
    accessible(page, where="TM tenant platform status")

    page.get_by_label("Outage").check()
    page.get_by_role("button", name="Save status").click()
    page.get_by_text("Say what is happening").first.wait_for()
    accessible(page, where="TM tenant platform status with an error")
    page.get_by_label("Message").fill("Calls cannot reach agents in North America. We expect a fix by 15:00 UTC.")
    page.get_by_role("button", name="Save status").click()
    page.get_by_role("status").filter(has_text="The status of Classics Inc. is now Outage.").wait_for()
    assert page.get_by_test_id("effective-status").inner_text() == "Outage"

    page.get_by_role("navigation", name="Tenant Management").get_by_role("link", name="Platform status").click()
    page.get_by_role("heading", name="Not operational").wait_for()
    assert page.locator("#status-table").get_by_role("link", name="Classics Inc.").count() == 1
    accessible(page, where="TM platform status list")

    page.context.clear_cookies()
    sign_in(page, "andy", password)
    page.get_by_role("heading", name="Classics Inc. is in an outage").wait_for()
    assert "We expect a fix by 15:00 UTC." in page.get_by_test_id("outage-message").inner_text()
    # Classics Inc. has no BCP tenant here, and the page says so rather than "if your organization has one".
    assert page.get_by_test_id("outage-no-bcp").count() == 1
    accessible(page, where="outage page")
    save_screenshot(page, "outage-page.png")

    # The plan stays open during the outage, for reading: the outage page links to it.
    page.get_by_role("link", name="Read the continuity plan").click()
    page.get_by_role("heading", name="Continuity Plan", level=1).wait_for()
    page.get_by_test_id("plan-outage").wait_for()
    accessible(page, where="the plan during an outage")
    page.go_back()
    page.get_by_role("heading", name="Classics Inc. is in an outage").wait_for()

    page.get_by_role("link", name="Get an email when the status changes").click()
    page.get_by_role("heading", name="Status alerts", exact=True).wait_for()
    page.get_by_label("Email me when the status of my tenant").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="You are subscribed to status alerts").wait_for()
    accessible(page, where="Status alerts")
    assert StatusSubscription.objects.filter(user=agent).exists()

    mail.outbox.clear()
    platform_status_set(tenant=tenant, level="operational", message="", actor=Actor(user=rep))
    page.goto("/profile/")
    page.get_by_role("heading", name="General Information").wait_for()
    assert [m.to for m in mail.outbox] == [["andy@example.com"]]
