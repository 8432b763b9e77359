"""Plan validation in the browser: the administrator of a synced pair rehearses the switch from the Drills page
with a real Celery worker running the sync and the rehearsal's completion, watches the record complete and reads
the RPO and the switch time; then records a tabletop drill with a follow-up action. Axe on every page, in English
and in German."""

import re

from celery.contrib.testing.worker import start_worker
from django.utils import timezone, translation
from playwright.sync_api import expect

from bcp_project.celery import app
from continuity.models import Drill, FollowUpAction
from tenants.models import BcpMapping
from tests.continuity.test_rehearsal import tasks_done, worker_queue  # noqa: F401
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

REHEARSAL_TIMEOUT_MS = 60_000
CONFIRM = ("I understand that a rehearsal runs the readiness checks and a sync, and moves no traffic: nobody is "
           "signed out.")


def _german(text):
    with translation.override("de"):
        return translation.gettext(text)


def _label(text):
    return re.compile(rf"^{re.escape(text)}\W*$")  # "Passkey *"


def test_the_administrator_rehearses_the_switch_and_records_a_tabletop_drill(
        page, sign_in, accessible, synced, worker_queue, tasks_done):  # noqa: F811
    sign_in(page, "alice", PASSWORD)
    page.goto("/plan/drills/")
    expect(page.get_by_role("heading", name="Drills", level=1)).to_be_visible()
    expect(page.get_by_test_id("drill-schedule")).to_contain_text("Every 3 months; no drill recorded yet")
    expect(page.get_by_text("No drill has been recorded yet.")).to_be_visible()
    accessible(page, where="Drills, none yet")

    # Rehearse: a wrong passkey first (the throttle counts it), then the right one, with a worker running.
    rehearse = page.get_by_role("region", name="Rehearse the switch")
    rehearse.get_by_label(_label("Passkey")).fill("WRONG-PASS-KEY0")
    rehearse.get_by_role("checkbox", name=CONFIRM).check()
    rehearse.get_by_role("button", name="Rehearse").click()
    expect(page.locator("#id_passkey_error")).to_contain_text("4 more tries")
    accessible(page, where="Drills, wrong passkey")
    assert not Drill.objects.exists()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[worker_queue]):
        rehearse = page.get_by_role("region", name="Rehearse the switch")
        rehearse.get_by_label(_label("Passkey")).fill(PASSKEY)
        rehearse.get_by_role("checkbox", name=CONFIRM).check()
        rehearse.get_by_role("button", name="Rehearse").click()
        expect(page.get_by_role("heading", name=re.compile(r"^Rehearsal of "), level=1)).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="The rehearsal has started")).to_be_visible()
        # The record polls until the worker has completed it.
        expect(page.get_by_test_id("drill-outcome")).to_have_text("Passed", timeout=REHEARSAL_TIMEOUT_MS)
        assert tasks_done.wait(30)
    expect(page.locator("#drill-record")).not_to_have_attribute("hx-trigger", re.compile("."))
    expect(page.get_by_test_id("rehearsal-pending")).to_have_count(0)
    expect(page.get_by_test_id("rpo-before")).to_contain_text("what a switch at that moment would have lost")
    expect(page.get_by_test_id("rpo-after")).to_have_text(re.compile(r"^\d+([.,]\d)? s$"))
    expect(page.get_by_test_id("switch-time")).to_contain_text(
        re.compile(r"^\d[\d,.]* ms, measured on a dry run of the switch that was rolled back"))
    expect(page.get_by_test_id("rehearsal-sync")).to_contain_text("Succeeded")
    expect(page.locator("ul.checks > li.check-failed")).to_have_count(0)
    accessible(page, where="Rehearsal record, complete")
    save_screenshot(page, "drill-rehearsal.png")
    drill = Drill.objects.get()
    assert (drill.kind, drill.outcome) == (Drill.Kind.REHEARSAL, Drill.Outcome.PASSED)
    synced.refresh_from_db()
    assert (synced.active_side, synced.routing_epoch) == (BcpMapping.Side.PRIMARY, 0)

    # Reading its record again from the list.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Drills").click()
    table = page.get_by_role("table", name="Drills, newest first")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Passed")
    table.get_by_role("link", name=re.compile(r"^Rehearsal of ")).click()
    expect(page.get_by_test_id("switch-time")).to_contain_text(" ms")

    # A tabletop drill with a follow-up action.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Drills").click()
    page.get_by_role("link", name="Record a drill").click()
    expect(page.get_by_role("heading", name="Record a drill", level=1)).to_be_visible()
    accessible(page, where="Record a drill")
    page.get_by_label(_label("Date")).fill(timezone.localdate().isoformat())
    page.get_by_label(_label("Kind")).select_option(label="Tabletop exercise")
    page.get_by_label(_label("Scenario")).fill("The ACD fails at 9:00 on a Monday")
    page.get_by_label(_label("Participants")).fill("Alice, Andy, Sam")
    page.get_by_label(_label("Outcome")).select_option(label="Passed with findings")
    page.get_by_label(_label("Findings")).fill("The supervisors did not know where the plan is printed.")
    row = page.get_by_test_id("action-form-1")
    row.get_by_label(_label("Follow-up action")).fill("Put a printed plan at every supervisor desk")
    row.get_by_label(_label("Owner")).select_option(label="sam")
    row.get_by_label(_label("Due")).fill("2030-01-31")
    page.get_by_role("button", name="Record the drill").click()
    expect(page.get_by_role("heading", name="The ACD fails at 9:00 on a Monday", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="The drill is recorded.")).to_be_visible()
    actions = page.get_by_role("table", name="Follow-up actions of this drill")
    expect(actions).to_contain_text("Put a printed plan at every supervisor desk")
    expect(actions).to_contain_text("2030-01-31")
    accessible(page, where="Tabletop drill record")
    assert FollowUpAction.objects.get().owner.username == "sam"

    # In German: the Drills page and the rehearsal's record.
    page.goto("/profile/")
    page.get_by_role("combobox", name="Language").select_option("de")
    page.get_by_role("button", name="Save language").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.goto("/plan/drills/")
    expect(page.get_by_role("heading", name=_german("Drills"), level=1)).to_be_visible()
    expect(page.get_by_role("table", name=_german("Open follow-up actions, soonest due first"))).to_contain_text(
        "Put a printed plan at every supervisor desk")
    accessible(page, where="Drills (de)")
    page.goto(f"/plan/drills/{drill.pk}/")
    expect(page.get_by_role("heading", name=_german("What the rehearsal measured"), level=2)).to_be_visible()
    accessible(page, where="Rehearsal record (de)")
