"""The continuity plan in the browser: Classics Inc.'s administrator opens Plan from the header, starts the plan,
sets the IVR's recovery-time goal, adds two emergency contacts, reorders them and removes one (after confirming);
an agent reads the plan without any editing control. Axe on every page, in English and in German."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from accounts.roles import ADMINISTRATOR, AGENT
from continuity.models import EmergencyContact, PlanVersion
from tests.factories import PASSWORD, UserFactory, role_of


def _german(text):
    with translation.override("de"):
        return translation.gettext(text)


@pytest.fixture
def people(tenant):
    UserFactory(username="alice", tenant=tenant, role=role_of(tenant, ADMINISTRATOR))
    UserFactory(username="andy", tenant=tenant, role=role_of(tenant, AGENT))


@pytest.fixture
def agent_page(browser, live_server, page):
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 860})
    agent = context.new_page()
    agent.set_default_timeout(15_000)
    yield agent
    context.close()


def _open_plan(page, label="Plan"):
    page.get_by_role("navigation", name=re.compile("Applications|Anwendungen")).get_by_role(
        "link", name=label, exact=True).click()
    page.wait_for_load_state("networkidle")
    expect(page).to_have_url(re.compile(r"/plan/$"))


def _contact_names(page):
    return [" ".join(text.split()) for text in page.locator("#section-contacts .plan-item h3").all_inner_texts()]


def _add_contact(page, name, phone, email):
    page.get_by_role("link", name="Add emergency contact").click()
    page.locator("#id_name").fill(name)
    page.get_by_label("Phone").fill(phone)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("status").filter(has_text=f"Emergency contact “{name}” is added.")).to_be_visible()


def _set_language(page, value):
    page.locator("header .user-menu summary").click()
    page.get_by_role("link", name=re.compile("My Profile|Mein Profil")).click()
    page.get_by_role("combobox", name=re.compile("Language|Sprache")).select_option(value)
    page.get_by_role("button", name=re.compile("Save language|Sprache speichern")).click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", value)


def test_an_administrator_fills_the_plan_and_an_agent_reads_it(page, agent_page, sign_in, accessible, people,
                                                                tenant):
    admin = page
    sign_in(admin, "alice", PASSWORD)
    _open_plan(admin)
    expect(admin.get_by_test_id("plan-empty")).to_contain_text("No continuity plan yet")
    accessible(admin, where="Plan, not started")
    admin.get_by_role("button", name="Start the plan").click()
    admin.wait_for_load_state("networkidle")
    expect(admin.get_by_role("status").filter(has_text="The plan is started")).to_be_visible()
    expect(admin.get_by_role("heading", name="Critical systems and functions")).to_be_visible()
    expect(admin.get_by_role("navigation", name="Admin", exact=True).get_by_role(
        "link", name="Continuity Plan")).to_have_attribute("aria-current", "page")
    accessible(admin, where="Plan, started")

    # The IVR's recovery-time goal: 15 minutes become 5.
    ivr = admin.locator(".plan-item", has=admin.get_by_role("heading", name="IVR", exact=True))
    expect(ivr).to_contain_text("15 minutes")
    admin.get_by_role("link", name="Edit IVR", exact=True).click()
    admin.get_by_label("Recovery-time goal (minutes)").fill("5")
    accessible(admin, where="Edit critical system")
    admin.get_by_role("button", name="Save").click()
    admin.wait_for_load_state("networkidle")
    expect(admin.get_by_role("status").filter(has_text="Critical system “IVR” is saved.")).to_be_visible()
    expect(ivr).to_contain_text("5 minutes")

    # Two emergency contacts, then the second is moved up: it is called first.
    _add_contact(admin, "Grace Hopper", "+14155550110", "grace@classics.example.com")
    _add_contact(admin, "Ken Thompson", "+14155550111", "ken@classics.example.com")
    assert _contact_names(admin) == ["1. Grace Hopper", "2. Ken Thompson"]
    expect(admin.get_by_role("link", name="+14155550111")).to_have_attribute("href", "tel:+14155550111")
    admin.get_by_role("button", name="Move up Ken Thompson").click()
    admin.wait_for_load_state("networkidle")
    assert _contact_names(admin) == ["1. Ken Thompson", "2. Grace Hopper"]

    # Removing asks first; Cancel keeps the contact, Remove on the confirmation page removes it.
    admin.get_by_role("link", name="Remove Grace Hopper").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Remove emergency contact “Grace Hopper”?")
    accessible(admin, where="Remove confirmation")
    admin.get_by_role("link", name="Cancel").click()
    assert _contact_names(admin) == ["1. Ken Thompson", "2. Grace Hopper"]
    admin.get_by_role("link", name="Remove Grace Hopper").click()
    admin.get_by_role("button", name="Remove").click()
    admin.wait_for_load_state("networkidle")
    expect(admin.get_by_role("status").filter(has_text="Emergency contact “Grace Hopper” is removed.")
           ).to_be_visible()
    assert _contact_names(admin) == ["1. Ken Thompson"]
    assert list(EmergencyContact.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["Ken Thompson"]
    assert PlanVersion.objects.filter(tenant=tenant).count() == 6  # start, goal, 2 contacts, move, removal
    accessible(admin, where="Plan, edited")

    # An agent reads the same plan, with no editing control and no Admin menu.
    agent = agent_page
    sign_in(agent, "andy", PASSWORD)
    _open_plan(agent)
    expect(agent.locator("#section-contacts")).to_contain_text("Ken Thompson")
    expect(agent.locator(".plan-item", has=agent.get_by_role("heading", name="IVR", exact=True))
           ).to_contain_text("5 minutes")
    expect(agent.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    expect(agent.get_by_role("button", name=re.compile("^Move"))).to_have_count(0)
    expect(agent.get_by_role("navigation", name="Admin", exact=True)).to_have_count(0)
    accessible(agent, where="Plan, read by an agent")

    # German: both read the plan, and the administrator's editing page too.
    _set_language(admin, "de")
    _open_plan(admin, _german("Plan"))
    expect(admin.get_by_role("heading", name=_german("Continuity Plan"), level=1)).to_be_visible()
    accessible(admin, where="Plan, German")
    admin.get_by_role("link", name=f"{_german('Edit')} IVR", exact=True).click()
    accessible(admin, where="Edit critical system, German")
    _set_language(agent, "de")
    _open_plan(agent, _german("Plan"))
    accessible(agent, where="Plan read by an agent, German")
