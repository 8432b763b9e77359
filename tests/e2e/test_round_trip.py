"""Through the outage and back (issue 18), in two browsers: the administrator of Classics Inc. switches to its BCP
tenant; Nina, made on the primary after the last sync, is told on the sign-in page whom to ask; the administrator,
on the BCP tenant, gives her an account (the list read in German too) and Nina signs in. The administrator edits a
copied team and adds a point of contact linked to copied records; before switching back, BC Enablement lists both
with the primary's side, she carries the new point of contact back and lets the primary's version of the team
stand, reviews it (in English, then in German) and switches back with the passkey. The primary holds exactly what
was chosen, in the database and on its pages, and the next forward sync overwrites the edited copy, keeps the
carried one as one record and adopts Nina's account. Axe on every page."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from accounts.models import User
from accounts.roles import AGENT
from audit.services import Actor
from contactcenter import services as cc
from contactcenter.models import HoursOfOperation, PointOfContact, Skill, Team
from sync.carryback import AUDIT_ACTION
from sync.models import Correlation
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.e2e.test_emergency import (  # noqa: F401
    SIGN_IN_URL,
    _german,
    _open_enablement,
    _sign_in_here,
    admin_page,
)
from tests.enablement.conftest import (  # noqa: F401
    PASSKEY,
    _fresh_routing_cache,
    configured,
    mapping,
    run_sync,
    sync_enabled,
    synced,
)
from tests.factories import PASSWORD, role_of
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

PRIMARY_NAME, BCP_NAME = "Classics Inc.", "Classics Inc. BCP"
NINA_PASSWORD = "Nina-own-pass-7"
NEW_LINE, NEW_ADDRESS = "Storm Line", "+14155550177"
CONFIRM = "I understand that every user of both tenants is signed out and must sign in again."


@pytest.fixture
def nina_made_after_the_sync(synced, configured):  # noqa: F811
    """Classics Inc., synced once; then Nina joins the primary, so its BCP tenant has no account of hers."""
    cc.agent_create(tenant=configured, username="nina", password=NINA_PASSWORD, first_name="Nina", last_name="New",
                    role=role_of(configured, AGENT), actor=Actor.system())
    return synced


def _in(german: bool):
    return _german if german else (lambda text: text)


def _admin_menu(page, label, *, german=False):
    page.get_by_role("navigation", name=_in(german)("Admin"), exact=True).get_by_role(
        "link", name=label, exact=True).click()
    page.wait_for_load_state("networkidle")


def _choose_language(page, value, *, german: bool):
    """The user menu → My Profile → Language, with the labels of the language the page is in now."""
    tr = _in(german)
    page.locator("header .user-menu summary").click()
    page.get_by_role("link", name=tr("My Profile"), exact=True).click()
    page.get_by_role("combobox", name=tr("Language")).select_option(value)
    page.get_by_role("button", name=tr("Save language")).click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", value)


def _to_admin(page, *, german=False):
    tr = _in(german)
    page.get_by_role("navigation", name=tr("Applications")).get_by_role("link", name=tr("Admin"), exact=True).click()
    page.wait_for_load_state("networkidle")


def _saved(page, text):
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def _german_plural(singular, plural, count):
    with translation.override("de"):
        return translation.ngettext(singular, plural, count)


def _choose(page, row_key, choice, *, german=False):
    page.get_by_test_id(f"change-{row_key}").get_by_role("radio", name=_in(german)(choice)).check()


def _review(page, *, german=False):
    page.get_by_role("button", name=_in(german)("Review the switch back")).click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("switch-back-review")).to_be_visible()


def test_the_round_trip_nobody_locked_out_and_nothing_lost_on_the_way_home(
        page, admin_page, sign_in, accessible, nina_made_after_the_sync):  # noqa: F811
    nina, admin, pair = page, admin_page, nina_made_after_the_sync
    primary, bcp = pair.primary_id, pair.secondary_id

    # 1. The administrator switches to the BCP tenant: Nina has no account there, so the switch needs a reason.
    sign_in(admin, "alice", PASSWORD)
    admin.goto("/admin/")
    _open_enablement(admin)
    accessible(admin, where="BC Enablement, primary active, someone without an account on the BCP tenant")
    admin.get_by_role("switch", name="Enable/Disable BCP Tenant").set_checked(True)
    admin.get_by_label(re.compile(r"^Passkey\W*$")).fill(PASSKEY)
    admin.get_by_role("checkbox", name="Switch anyway").check()
    admin.get_by_label(re.compile(r"^Reason for switching anyway\W*$")).fill("North America is down")
    admin.get_by_role("checkbox", name=CONFIRM).check()
    admin.get_by_role("button", name="Submit", exact=True).click()
    expect(admin).to_have_url(SIGN_IN_URL)
    expect(admin.get_by_role("status").filter(has_text=f"The BCP tenant “{BCP_NAME}” is active now.")).to_be_visible()
    pair.refresh_from_db()
    assert pair.active_side == BcpMapping.Side.SECONDARY

    # 2. Nina cannot sign in, and is told whom to ask for what.
    sign_in(nina, "nina", NINA_PASSWORD)
    expect(nina).to_have_url(re.compile(r"/sign-in/"))
    expect(nina.get_by_text(f"Ask one of your administrators to give you an account on “{BCP_NAME}” (BC Enablement → "
                            "People without an account)")).to_be_visible()
    accessible(nina, where="Sign-in, no account on the BCP tenant (Nina)")

    # 3. The administrator, on the BCP tenant, finds her named, in English and in German, and gives her an account.
    _sign_in_here(admin, "alice")
    admin.goto("/admin/")
    _open_enablement(admin)
    admin.get_by_test_id("check-users").get_by_role("link", name="See them and give them an account").click()
    expect(admin.get_by_role("heading", name=f"People without an account on “{BCP_NAME}”", level=1)).to_be_visible()
    expect(admin.get_by_test_id("missing-nina")).to_contain_text("Nina New")
    expect(admin.get_by_test_id("missing-nina")).to_contain_text("Agent")
    accessible(admin, where="People without an account")

    _choose_language(admin, "de", german=False)
    _to_admin(admin, german=True)
    _open_enablement(admin, "BC-Aktivierung", german=True)
    admin.get_by_test_id("check-users").get_by_role("link", name=_german("See them and give them an account")).click()
    heading = _german("People without an account on “%(bcp)s”") % {"bcp": BCP_NAME}
    assert heading != f"People without an account on “{BCP_NAME}”"
    expect(admin.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(admin.get_by_test_id("missing-nina")).to_contain_text("Nina New")
    accessible(admin, where="People without an account (de)")
    admin.get_by_test_id("missing-nina").get_by_role("button", name=_german("Give an account…")).click()
    give_one = _german_plural("Give an account on “%(bcp)s”?", "Give accounts on “%(bcp)s”?", 1)
    expect(admin.get_by_role("heading", name=give_one % {"bcp": BCP_NAME},
                             level=1)).to_be_visible()
    accessible(admin, where="Give accounts, the confirmation (de)")
    admin.get_by_test_id("give-confirm").click()
    expect(admin.get_by_test_id("nobody-missing")).to_be_visible()
    accessible(admin, where="People without an account, nobody left (de)")
    _choose_language(admin, "en", german=True)
    copy = User.objects.get(username="nina", is_bcp_copy=True)
    assert (copy.tenant_id, copy.role.name) == (bcp, AGENT)

    # 4. Nina signs in with her own password and lands on the BCP tenant.
    sign_in(nina, "nina", NINA_PASSWORD)
    expect(nina).not_to_have_url(re.compile(r"/sign-in/"))
    expect(nina.get_by_test_id("bcp-banner")).to_contain_text(f"You are working in {BCP_NAME}")
    accessible(nina, where="Nina's first page on the BCP tenant")

    # 5. Work on the BCP tenant: the copied team Sales gets a description; a point of contact is added, routed to the
    #    copied skill and hours.
    _to_admin(admin)
    _admin_menu(admin, "Teams")
    admin.get_by_role("link", name="Sales", exact=True).click()
    admin.get_by_label("Description").fill("Night shift")
    accessible(admin, where="Team Sales on the BCP tenant")
    admin.get_by_role("button", name="Save").click()
    _saved(admin, "Team “Sales” is saved.")

    _admin_menu(admin, "Points of Contact")
    admin.get_by_role("link", name="Add point of contact").first.click()
    admin.get_by_label("Name").fill(NEW_LINE)
    admin.get_by_label("Channel").select_option(label="Phone")
    admin.get_by_label("Address").fill(NEW_ADDRESS)
    admin.get_by_label("Skill").select_option(label="Billing Inquiries")
    admin.get_by_label("Hours of operation").select_option(label="Business Hours")
    accessible(admin, where="Add point of contact on the BCP tenant")
    admin.get_by_role("button", name="Save").click()
    _saved(admin, f"“{NEW_LINE}” is saved.")

    sales_copy = Team.objects.get(tenant_id=bcp, name="Sales")
    new_line = PointOfContact.objects.get(tenant_id=bcp, name=NEW_LINE)
    team_key, line_key = f"team:{sales_copy.pk}", f"point_of_contact:{new_line.pk}"

    # 6. BC Enablement lists both changes, each with the primary's side; the choices, then the review.
    _open_enablement(admin)
    changes = admin.get_by_test_id("bcp-changes")
    expect(changes.get_by_test_id(f"change-{team_key}")).to_contain_text("Edited here")
    expect(changes.get_by_test_id(f"change-{team_key}")).to_contain_text("Unchanged since the last sync")
    expect(changes.get_by_test_id(f"change-{line_key}")).to_contain_text("Created here")
    expect(changes.get_by_test_id(f"change-{line_key}")).to_contain_text("Not on the primary")
    expect(admin.get_by_test_id("switch-back-needs-review")).to_be_visible()
    expect(admin.get_by_label(re.compile(r"^Passkey\W*$"))).to_have_count(0)
    accessible(admin, where="BC Enablement, changes on the BCP tenant")
    _choose(admin, line_key, "Carry it back")
    _choose(admin, team_key, "Let the primary's version stand")
    _review(admin)
    expect(admin.get_by_test_id("review-carried")).to_have_text(
        f"Point of contact “{NEW_LINE}”: created on the primary")
    expect(admin.get_by_test_id("review-overwritten")).to_have_text("Team “Sales”: the edit made here is lost")
    expect(admin.get_by_test_id("review-stays")).to_have_text("Nothing.")
    accessible(admin, where="Review of the switch back")

    # The same in German: she chooses Deutsch on My Profile, opens BC-Aktivierung again, chooses, reviews, and
    # switches back from there.
    _choose_language(admin, "de", german=False)
    _to_admin(admin, german=True)
    _open_enablement(admin, "BC-Aktivierung", german=True)
    expect(admin.get_by_role("heading", name=_german("Changes on the BCP tenant"), level=2)).to_be_visible()
    accessible(admin, where="BC-Aktivierung, changes on the BCP tenant (de)")
    _choose(admin, line_key, "Carry it back", german=True)
    _choose(admin, team_key, "Let the primary's version stand", german=True)
    _review(admin, german=True)
    carried = _german("Carried back to the primary")
    assert carried != "Carried back to the primary"
    expect(admin.get_by_role("heading", name=carried, level=3)).to_be_visible()
    expect(admin.get_by_test_id("review-carried")).to_contain_text(f"„{NEW_LINE}“")
    expect(admin.get_by_test_id("review-overwritten")).to_contain_text(
        f"Team „Sales“: {_german('the edit made here is lost')}")
    accessible(admin, where="Review of the switch back (de)")
    admin.get_by_label(re.compile(rf"^{re.escape(_german('Passkey'))}\W*$")).fill(PASSKEY)
    admin.get_by_role("checkbox", name=_german(CONFIRM)).check()
    admin.get_by_role("button", name=_german("Switch back")).click()
    expect(admin).to_have_url(SIGN_IN_URL)
    expect(admin.locator("html")).to_have_attribute("lang", "de")
    told = (_german("Carried back to the primary: %(carried)s.") % {"carried": NEW_LINE} + " "
            + _german("The primary's version stands for: %(kept)s.") % {"kept": "Sales"})
    expect(admin.get_by_role("status").filter(has_text=told)).to_be_visible()
    # The switch back started the sync that overwrites what was not carried back.
    expect(admin.get_by_role("status").filter(has_text=_german("A sync has started: it makes the copies on the BCP "
                                                                 "tenant the primary's again, so what was not carried "
                                                                 "back is overwritten now. Its progress is under Admin "
                                                                 "→ Sync Configuration."))).to_be_visible()
    accessible(admin, where="Anmelden after switching back (de)")

    # 7. The primary holds exactly what was chosen: the new point of contact, linked to the primary's own skill and
    #    hours; its team Sales as it was.
    pair.refresh_from_db()
    assert pair.active_side == BcpMapping.Side.PRIMARY
    carried_line = PointOfContact.objects.get(tenant_id=primary, name=NEW_LINE)
    assert carried_line.address == NEW_ADDRESS
    assert Skill.objects.filter(tenant_id=primary, pk=carried_line.skill_id, name="Billing Inquiries").exists()
    assert HoursOfOperation.objects.filter(tenant_id=primary, pk=carried_line.hours_id, name="Business Hours").exists()
    assert set(PointOfContact.objects.filter(tenant_id=primary).values_list("name", flat=True)) == {
        "Billing Line", "Website Chat", NEW_LINE}
    assert dict(Team.objects.filter(tenant_id=primary).values_list("name", "description")) == {
        "Billing Support": "Invoices", "Sales": ""}
    assert [event.changes["name"] for event in audit_events().filter(action=AUDIT_ACTION)] == [NEW_LINE]

    _sign_in_here(admin, "alice", german=True)
    # The language she chose on the BCP tenant is hers on the primary too (every account of the person); she
    # turns English on again there.
    admin.goto("/admin/")
    expect(admin.locator("html")).to_have_attribute("lang", "de")
    _choose_language(admin, "en", german=True)
    admin.goto("/admin/")
    expect(admin.get_by_test_id("bcp-banner")).to_have_count(0)
    expect(admin.get_by_role("navigation", name="Admin", exact=True).locator(".sidebar-tenant")).to_have_text(
        PRIMARY_NAME)
    _admin_menu(admin, "Points of Contact")
    admin.get_by_role("link", name=NEW_LINE, exact=True).click()
    expect(admin.get_by_label("Skill").locator("option:checked")).to_have_text("Billing Inquiries")
    expect(admin.get_by_label("Hours of operation").locator("option:checked")).to_have_text("Business Hours")
    accessible(admin, where="The carried point of contact on the primary")
    _admin_menu(admin, "Teams")
    admin.get_by_role("link", name="Sales", exact=True).click()
    expect(admin.get_by_label("Description")).to_have_value("")

    # 8. The next forward sync makes the edited copy the primary's again, sees the carried record as one, and adopts
    #    Nina's account.
    run = run_sync(pair.primary)  # the run the switch back queued
    assert run.status == "succeeded", run.errors
    assert run.trigger == "switchback"
    assert Team.objects.get(tenant_id=bcp, name="Sales").description == ""
    assert PointOfContact.objects.filter(tenant_id=bcp, name=NEW_LINE).count() == 1
    assert PointOfContact.objects.filter(tenant_id=primary, name=NEW_LINE).count() == 1
    assert Correlation.objects.filter(mapping=pair, entity_type="point_of_contact", source_id=carried_line.pk,
                                      target_id=new_line.pk).exists()
    assert User.objects.filter(username="nina", is_bcp_copy=True).count() == 1
