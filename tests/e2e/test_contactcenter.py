"""The tenant administrator builds a small configuration in the browser: a skill, hours of operation,
a point of contact routed to the skill, and a user who holds it; axe checks every page on the way."""

import re

from accounts.models import User
from audit.services import Actor
from contactcenter.models import PointOfContact, SkillAssignment
from tests.e2e.conftest import save_screenshot


def _open(page, menu_label):
    page.get_by_role("navigation", name="Admin").get_by_role("link", name=menu_label, exact=True).click()
    page.get_by_role("heading", name=menu_label, level=1).wait_for()


def _saved(page, text):
    page.get_by_role("status").filter(has_text=text).wait_for()


def test_the_administrator_creates_a_skill_a_point_of_contact_and_a_user_with_that_skill(
        page, sign_in, accessible, tenant_admin, password):
    sign_in(page, "alice", password)
    page.goto("/admin/")

    _open(page, "Skills")
    accessible(page, where="Skills (empty)")
    page.get_by_role("link", name="Add skill").first.click()
    accessible(page, where="Add skill")
    page.get_by_label("Name").fill("Billing")
    page.get_by_label("Channel").select_option(label="Phone")
    page.get_by_label("Direction").select_option(label="Inbound")
    page.get_by_role("button", name="Save").click()
    _saved(page, "Skill “Billing” is saved.")
    accessible(page, where="Skills")

    _open(page, "Hours of Operation")
    page.get_by_role("link", name="Add hours of operation").first.click()
    accessible(page, where="Add hours of operation")
    page.get_by_label(re.compile(r"^Name\W*$")).fill("Office hours")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Date (row 1)").fill("2026-12-25")
    page.get_by_label("Name (row 1)").fill("Christmas Day")
    page.get_by_role("button", name="Save").click()
    _saved(page, "“Office hours” is saved.")

    _open(page, "Points of Contact")
    accessible(page, where="Points of Contact (empty)")
    page.get_by_role("link", name="Add point of contact").first.click()
    accessible(page, where="Add point of contact")
    page.get_by_label("Name").fill("Main line")
    page.get_by_label("Channel").select_option(label="Phone")
    page.get_by_label("Address").fill("555-0100")
    page.get_by_label("Skill").select_option(label="Billing")
    page.get_by_label("Hours of operation").select_option(label="Office hours")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("international format").wait_for()  # the message stands beside the address
    accessible(page, where="Add point of contact (with an error)")
    page.get_by_label("Address").fill("+14155550100")
    page.get_by_role("button", name="Save").click()
    _saved(page, "“Main line” is saved.")
    accessible(page, where="Points of Contact")
    assert PointOfContact.objects.get(name="Main line").skill.name == "Billing"

    _open(page, "Users")
    page.get_by_role("link", name="Add user").first.click()
    accessible(page, where="Add user")
    page.get_by_label("Username").fill("zoe")
    page.get_by_label("Password").fill("violet-harbour-lantern-42")
    page.get_by_label("First name").fill("Zoe")
    page.get_by_label("Last name").fill("Quinn")
    page.get_by_label("Role").select_option(label="Agent")
    page.get_by_label("Skill (row 1)").select_option(label="Billing")
    page.get_by_label("Proficiency (row 1)").fill("3")
    page.get_by_role("button", name="Save").click()
    _saved(page, "User “zoe” is saved.")
    accessible(page, where="Users")
    zoe = User.objects.get(username="zoe")
    assert SkillAssignment.objects.get(agent__user_id=zoe.pk, skill__name="Billing").proficiency == 3

    # The search narrows the list in place (htmx).
    page.get_by_role("searchbox", name="Search").fill("zoe")
    page.get_by_text("1 entry").wait_for()
    save_screenshot(page, "admin-users.png")

    # The skill is in use now: its delete page says what routes to it and offers no Delete button.
    _open(page, "Skills")
    page.get_by_role("link", name="Delete Billing").click()
    page.get_by_text("Route them to another skill first.").wait_for()
    assert page.get_by_role("button", name="Delete").count() == 0
    accessible(page, where="Delete skill (blocked)")
    save_screenshot(page, "admin-skill-delete-blocked.png")


def test_a_supervisor_reads_the_configuration_without_change_buttons(page, sign_in, accessible, supervisor, password,
                                                                     tenant):
    from contactcenter import services

    skill = services.skill_create(tenant=tenant, name="Billing", actor=Actor.system())
    sign_in(page, "sam", password)
    page.goto("/admin/skills/")
    assert page.get_by_role("link", name="Add skill").count() == 0
    page.get_by_role("link", name="Billing").click()
    page.get_by_role("heading", name="Billing", level=1).wait_for()
    assert page.get_by_label("Name").is_disabled()
    assert page.get_by_role("button", name="Save").count() == 0
    accessible(page, where="Skill (read-only)")
    assert skill.name == "Billing"


def test_an_administrator_adds_a_tag_with_the_keyboard_only(page, sign_in, accessible, tenant_admin, password):
    from contactcenter.models import Tag

    sign_in(page, "alice", password)
    page.goto("/admin/tags/")
    add = page.get_by_role("link", name="Add tag").first
    add.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Add tag").wait_for()
    accessible(page, where="Add tag")
    page.get_by_label("Name").focus()
    page.keyboard.type("Escalated")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "description"
    page.keyboard.type("Sent on to the second line")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Tag “Escalated” is saved.").wait_for()
    accessible(page, where="Tags after saving")
    assert Tag.objects.get(tenant=tenant_admin.tenant).description == "Sent on to the second line"
