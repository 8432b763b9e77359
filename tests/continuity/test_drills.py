"""Continuity Plan → Drills and Settings: every persona on every URL, recording drills and their follow-up actions,
the schedule, the plan's settings, and the pages' query counts."""

import html
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import ADMINISTRATOR
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.permissions import CHANGE_BCP_ENABLEMENT, VIEW_BCP_ENABLEMENT
from continuity.drills import services as drills
from continuity.drills.selectors import add_months, drill_schedule
from continuity.models import Drill, EmergencyContact, FollowUpAction, Plan
from enablement.models import Switch
from tests.auditlog import audit_events
from tests.enablement.conftest import (  # noqa: F401
    PASSKEY,
    _fresh_routing_cache,
    configured,
    mapping,
    sync_enabled,
    synced,
)
from tests.factories import UserFactory, role_of
from tests.permissions import GET, POST, Row, answers, ask, cases
from tests.queries import CaptureQueriesEverywhere
from tests.tenants.bcp_helpers import bcp_tenant_fixture, make_mapping  # noqa: F401

TODAY = timezone.localdate()


@pytest.fixture
def drill(tenant, tenant_admin):
    return drills.drill_create(tenant=tenant, actor=Actor(user=tenant_admin), kind=Drill.Kind.TABLETOP,
                               held_on=TODAY - timedelta(days=3), scenario="The ACD fails on a Monday morning",
                               participants="Alice, Andy", outcome=Drill.Outcome.PARTIAL,
                               findings="Nobody knew the carrier's number.",
                               actions=[{"description": "Put the carrier's number in the plan", "owner": tenant_admin,
                                         "due_on": TODAY + timedelta(days=7)}])


@pytest.fixture
def action(drill):
    return drill.actions.get()


@pytest.fixture
def rehearsable(tenant, bcp_tenant, drill):
    """Classics Inc. is a primary with its BCP tenant standing by; its administrators may switch."""
    make_mapping(tenant, bcp_tenant, passkey=PASSKEY)
    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT],
                         scope=[VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT], actor=Actor.system())
    return drill


# The URL names whose path takes a drill's id, and those that take a follow-up action's.
DRILL_ID = {"continuity:drill", "continuity:drill_edit", "continuity:action_create"}
ACTION_ID = {"continuity:action_edit", "continuity:action_done", "continuity:action_delete"}


def _args(name, drill_id, action_id):
    return [drill_id] if name in DRILL_ID else [action_id] if name in ACTION_ID else []


WRONG = {"passkey": "WRONG-KEY", "confirm": "on"}
# url name, method, then the answer per persona in the order of PERSONAS: anonymous, agent, supervisor (reads),
#   tenant_admin (Continuity Plan: Edit, BCP Tenant Enablement: Edit), other_admin (Continuity Plan: Edit on another
#   tenant), rep (not impersonating: no tenant); form data.
READ = answers(302, 200, 200, 200, 200, 404)
FORM = answers(302, 403, 403, 200, 404, 404)
BAD = answers(302, 403, 403, 400, 404, 404)
URLS = [
    Row("continuity:drills", GET, READ),
    Row("continuity:drill", GET, answers(302, 200, 200, 200, 404, 404)),
    Row("continuity:drill_create", GET, answers(302, 403, 403, 200, 200, 404)),
    Row("continuity:drill_create", POST, answers(302, 403, 403, 400, 400, 404), data={"scenario": ""}),
    Row("continuity:drill_edit", GET, FORM),
    Row("continuity:drill_edit", POST, BAD, data={"scenario": ""}),
    Row("continuity:action_create", GET, FORM),
    Row("continuity:action_create", POST, BAD, data={"description": ""}),
    Row("continuity:action_edit", GET, FORM),
    Row("continuity:action_edit", POST, BAD, data={"description": ""}),
    Row("continuity:action_done", POST, answers(302, 403, 403, 302, 404, 404), data={"done": "1"}),
    Row("continuity:action_delete", GET, FORM),
    Row("continuity:action_delete", POST, answers(302, 403, 403, 302, 404, 404)),
    # The other tenant's administrator may edit her plan, but not switch: 403 before the mapping is looked at.
    Row("continuity:rehearse", POST, answers(302, 403, 403, 400, 403, 404), data=WRONG),
    Row("continuity:settings", GET, answers(302, 403, 403, 200, 200, 404)),
    Row("continuity:settings", POST, answers(302, 403, 403, 400, 400, 404), data={"drill_every_months": "7"}),
]


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_drill_url_for_every_persona(as_persona, rehearsable, row, persona):
    before = audit_events().filter(action__startswith="continuity.drill").count()
    client = as_persona(persona)
    ask(client, row, persona, args=_args(row.name, rehearsable.pk, rehearsable.actions.get().pk))
    if row.answers[persona] != 302 or persona != "tenant_admin":
        # Nobody but the tenant's administrator changed anything (a wrong passkey changes nothing either).
        assert audit_events().filter(action__startswith="continuity.drill").count() == before
        assert Drill.objects.count() == 1 and FollowUpAction.objects.filter(done_on__isnull=True).count() == 1


def test_a_representative_impersonating_the_tenant_reads_and_records_its_drills(client, rep, drill, tenant):
    client.force_login(rep)
    assert client.post(reverse("support:start", args=[tenant.pk])).status_code == 302
    assert client.get(reverse("continuity:drill", args=[drill.pk])).status_code == 200
    assert client.get(reverse("continuity:drill_create")).status_code == 200


# --- recording drills ---------------------------------------------------------------------------------------


def test_recording_a_drill_with_actions_is_audited(plan_admin, tenant, tenant_admin, agent):
    response = plan_admin.post(reverse("continuity:drill_create"), {
        "held_on": TODAY.isoformat(), "kind": "tabletop", "scenario": "Power cut at the main site",
        "participants": "Alice\nAndy", "outcome": "partial", "findings": "The generator key was missing.",
        "actions-TOTAL_FORMS": "2", "actions-INITIAL_FORMS": "0",
        "actions-0-description": "Keep a generator key at reception", "actions-0-owner": str(agent.pk),
        "actions-0-due_on": (TODAY + timedelta(days=14)).isoformat(),
        "actions-1-description": "", "actions-1-owner": "", "actions-1-due_on": ""}, follow=True)
    drill = Drill.objects.get()
    assert response.redirect_chain[-1][0] == reverse("continuity:drill", args=[drill.pk])
    page = response.text
    assert "The drill is recorded." in page and "Power cut at the main site" in page
    assert "Keep a generator key at reception" in page and "Passed with findings" in page
    assert [(a.description, a.owner) for a in drill.actions.all()] == [("Keep a generator key at reception", agent)]
    event = audit_events().get(action="continuity.drill_create")
    assert event.actor == tenant_admin and event.tenant == tenant
    assert event.changes["scenario"] == "Power cut at the main site"
    assert event.changes["actions"][0]["owner"] == "andy"


def test_bad_input_says_what_to_fix_and_records_nothing(plan_admin, other_admin):
    response = plan_admin.post(reverse("continuity:drill_create"), {
        "held_on": (TODAY + timedelta(days=2)).isoformat(), "kind": "rehearsal", "scenario": "  ", "outcome": "pending",
        "actions-TOTAL_FORMS": "1", "actions-INITIAL_FORMS": "0", "actions-0-description": "Half filled",
        "actions-0-owner": str(other_admin.pk), "actions-0-due_on": ""})
    assert response.status_code == 400
    page = response.text
    assert "Select a valid choice" in page  # kind "rehearsal" and outcome "pending" are not offered
    assert "Choose the owner from the people of this tenant." in page  # another tenant's person
    assert "Choose by when it has to be done." in page
    # Said at the top too, where the page opens, not only beside fields further down.
    assert page.index('data-testid="form-has-errors"') < page.index('name="scenario"')
    assert not Drill.objects.exists() and not audit_events().filter(action__startswith="continuity.").exclude(
        action="continuity.plan_started").exists()


def test_a_drill_in_the_future_is_refused(tenant, tenant_admin):
    with pytest.raises(drills.DrillError, match="once it has been held"):
        drills.drill_create(tenant=tenant, actor=Actor(user=tenant_admin), kind="tabletop", scenario="x",
                            held_on=TODAY + timedelta(days=1), outcome="passed")


def test_editing_a_drill_audits_what_changed(plan_admin, drill):
    response = plan_admin.post(reverse("continuity:drill_edit", args=[drill.pk]), {
        "held_on": drill.held_on.isoformat(), "kind": "other", "scenario": drill.scenario, "participants": "Alice",
        "outcome": "passed", "findings": drill.findings})
    assert response.status_code == 302
    drill.refresh_from_db()
    assert (drill.kind, drill.outcome, drill.participants) == ("other", "passed", "Alice")
    event = audit_events().get(action="continuity.drill_update")
    assert event.changes == {"kind": ["tabletop", "other"], "participants": ["Alice, Andy", "Alice"],
                             "outcome": ["partial", "passed"]}


def test_what_a_rehearsal_measured_cannot_be_edited(tenant, tenant_admin):
    rehearsal = Drill.objects.create(tenant=tenant, kind=Drill.Kind.REHEARSAL, scenario="r", outcome="passed",
                                     report={"checks": []})
    with pytest.raises(drills.DrillError, match="cannot be changed"):
        drills.drill_update(drill=rehearsal, actor=Actor(user=tenant_admin), outcome="failed")
    drills.drill_update(drill=rehearsal, actor=Actor(user=tenant_admin), findings="Took too long to find the key")
    rehearsal.refresh_from_db()
    assert rehearsal.outcome == "passed" and rehearsal.findings == "Took too long to find the key"


def test_follow_up_actions_are_added_edited_marked_done_and_removed(plan_admin, drill, action, agent):
    url = reverse("continuity:drill", args=[drill.pk])
    response = plan_admin.post(reverse("continuity:action_create", args=[drill.pk]), {
        "description": "Test the new number", "owner": str(agent.pk), "due_on": (TODAY - timedelta(days=1))
        .isoformat()}, follow=True)
    assert "The follow-up action is added." in response.text
    added = FollowUpAction.objects.get(description="Test the new number")
    assert added.is_overdue()

    response = plan_admin.post(reverse("continuity:action_edit", args=[added.pk]), {
        "description": "Test the new number twice", "owner": str(agent.pk),
        "due_on": (TODAY + timedelta(days=3)).isoformat()}, follow=True)
    assert "The follow-up action is saved." in response.text and "Test the new number twice" in response.text

    response = plan_admin.post(reverse("continuity:action_done", args=[added.pk]), {"done": "1", "next": url},
                               follow=True)
    assert response.redirect_chain[-1][0] == url and "is marked done" in response.text
    added.refresh_from_db()
    assert added.done_on == TODAY

    confirm = plan_admin.get(reverse("continuity:action_delete", args=[action.pk]))
    assert "Remove the follow-up action" in confirm.text and "cannot be undone" in confirm.text
    assert FollowUpAction.objects.filter(pk=action.pk).exists()  # asking first removes nothing
    response = plan_admin.post(reverse("continuity:action_delete", args=[action.pk]), follow=True)
    assert "is removed" in response.text
    assert not FollowUpAction.objects.filter(pk=action.pk).exists()
    assert list(audit_events().filter(action__startswith="continuity.drill_action").order_by("id")
                .values_list("action", flat=True)) == [
        "continuity.drill_action_create", "continuity.drill_action_update", "continuity.drill_action_done",
        "continuity.drill_action_delete"]


def test_an_owner_from_another_tenant_is_refused(drill, tenant_admin, other_admin):
    with pytest.raises(drills.DrillError, match="people of this tenant"):
        drills.drill_action_create(drill=drill, actor=Actor(user=tenant_admin), description="x", owner=other_admin,
                                   due_on=TODAY)


def test_another_tenants_action_is_a_404(client, other_admin, action):
    client.force_login(other_admin)
    assert client.post(reverse("continuity:action_done", args=[action.pk])).status_code == 404
    action.refresh_from_db()
    assert action.done_on is None


# --- the schedule -------------------------------------------------------------------------------------------


def test_months_are_added_as_people_count_them():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_the_schedule_counts_from_the_plan_then_from_the_last_drill(tenant, tenant_admin, plan):
    started = timezone.localdate(plan.created_at)
    schedule = drill_schedule(tenant=tenant, today=started + timedelta(days=80))
    assert schedule.last_drill is None and schedule.next_due == add_months(started, 3) and not schedule.overdue
    late = drill_schedule(tenant=tenant, today=add_months(started, 3) + timedelta(days=5))
    assert late.overdue and late.days_overdue == 5
    drills.drill_create(tenant=tenant, actor=Actor(user=tenant_admin), kind="tabletop", scenario="x",
                        held_on=TODAY, outcome="passed")
    assert drill_schedule(tenant=tenant, today=TODAY).next_due == add_months(TODAY, 3)


def test_the_list_shows_the_schedule_overdue_drills_and_actions(client, agent, tenant, plan, tenant_admin):
    Plan.objects.filter(pk=plan.pk).update(created_at=timezone.now() - timedelta(days=200))
    old = drills.drill_create(tenant=tenant, actor=Actor(user=tenant_admin), kind="tabletop",
                              scenario="Flood in the server room", held_on=TODAY - timedelta(days=120),
                              outcome="failed", actions=[{"description": "Move the servers upstairs",
                                                          "owner": tenant_admin, "due_on": TODAY - timedelta(days=2)}])
    client.force_login(agent)
    page = client.get(reverse("continuity:drills")).text
    assert "<title>Drills · Continuity Plan" in page
    assert "Every 3 months;" in page and 'data-testid="drill-overdue"' in page
    assert "Flood in the server room" in page and "Move the servers upstairs" in page
    assert page.count(">Overdue</span>") == 2  # the schedule and the action
    assert reverse("continuity:drill_create") not in page and "Mark done" not in page  # agents read only
    assert "Rehearse" not in page
    assert old.held_on.isoformat() in page


def test_the_empty_list_says_what_to_do(plan_admin):
    page = plan_admin.get(reverse("continuity:drills")).text
    assert "No drill has been recorded yet." in page and "No follow-up action is open." in page
    assert "the first drill is due by" in page and "counted from the day the plan was started" in page
    assert reverse("continuity:drill_create") in page


def test_rehearse_is_offered_only_on_a_primary_whose_bcp_tenant_is_standing_by(plan_admin, rehearsable, tenant):
    assert "Rehearse the switch" in plan_admin.get(reverse("continuity:drills")).text
    from tenants.models import BcpMapping

    BcpMapping.objects.filter(primary=tenant).update(active_side=BcpMapping.Side.SECONDARY)
    page = plan_admin.get(reverse("continuity:drills")).text
    assert "Rehearse the switch" not in page
    assert plan_admin.post(reverse("continuity:rehearse"), {"passkey": PASSKEY, "confirm": "on"}).status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesEverywhere() as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _more_drills(tenant, admin, count):
    for number in range(count):
        drills.drill_create(tenant=tenant, actor=Actor(user=admin), kind="tabletop", scenario=f"Drill {number}",
                            held_on=TODAY - timedelta(days=number), outcome="passed",
                            actions=[{"description": f"Action {number}", "owner": admin, "due_on": TODAY}])


def test_the_pages_keep_their_query_count_however_many_drills(plan_admin, tenant, tenant_admin, rehearsable):
    pages = [reverse("continuity:drills"), reverse("continuity:drill", args=[rehearsable.pk]),
             reverse("continuity:settings")]
    few = [_queries(plan_admin, url) for url in pages]
    _more_drills(tenant, tenant_admin, 30)
    for user in UserFactory.create_batch(5, tenant=tenant):
        drills.drill_action_create(drill=rehearsable, actor=Actor(user=tenant_admin), description="more",
                                   owner=user, due_on=TODAY)
    assert [_queries(plan_admin, url) for url in pages] == few


# --- settings -----------------------------------------------------------------------------------------------


def test_settings_choose_the_frequency_and_the_owners(plan_admin, tenant, tenant_admin, supervisor, plan):
    page = plan_admin.get(reverse("continuity:settings")).text
    assert "<title>Settings · Continuity Plan" in page
    assert "No owner is chosen, so the reminders go to everyone whose role holds Continuity Plan: Edit" in page
    assert tenant_admin.get_full_name() in page.split('data-testid="no-owners"')[1].split("</p>")[0]
    response = plan_admin.post(reverse("continuity:settings"), {"drill_every_months": "6",
                                                                "owners": [str(supervisor.pk)]}, follow=True)
    assert "The plan's settings are saved." in html.unescape(response.text)
    assert 'data-testid="no-owners"' not in response.text
    plan.refresh_from_db()
    assert plan.drill_every_months == 6 and list(plan.owners.all()) == [supervisor]
    event = audit_events().get(action="continuity.settings_change")
    assert event.changes == {"drill_every_months": [3, 6], "owners": [[], ["sam"]]}
    assert "Every 6 months;" in plan_admin.get(reverse("continuity:drills")).text


def test_an_owner_from_another_tenant_is_refused_in_settings(plan_admin, other_admin, plan):
    response = plan_admin.post(reverse("continuity:settings"), {"drill_every_months": "3",
                                                                "owners": [str(other_admin.pk)]})
    assert response.status_code == 400
    assert "Choose the plan's owners from the people of this tenant." in html.unescape(response.text)
    assert not plan.owners.exists()


# --- a real switch and revert, recorded from the audit log --------------------------------------------------


@pytest.fixture
def real_switch(django_capture_on_commit_callbacks):
    """A switch as BC Enablement makes it, with its on-commit work (the tenant_switched signal too) done."""
    from enablement import services as enablement

    def switch(pair, to_side, **kwargs):
        # Alice switches from the side that is active: the primary's account, then the BCP tenant's copy.
        alice = User.objects.get(username="alice", is_bcp_copy=to_side == "primary")
        with django_capture_on_commit_callbacks(execute=True):
            return enablement.tenant_switch(mapping=pair, to_side=to_side, passkey=PASSKEY,
                                            actor=Actor(user=alice), **kwargs)

    return switch


def _sign_in(client, username="andy"):
    from tests.factories import PASSWORD

    return client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})


@pytest.mark.usefixtures("_fresh_routing_cache")
def test_a_real_switch_sign_in_and_revert_become_a_drill_of_the_primary(client, synced, real_switch):  # noqa: F811
    real_switch(synced, "secondary")
    assert not Drill.objects.exists()  # still on the BCP tenant: nothing to record yet
    assert _sign_in(client).status_code == 302
    real_switch(synced, "primary")

    drill = Drill.objects.get()
    switch = audit_events().filter(action="enablement.switch", changes__to="secondary").get()
    first = audit_events().filter(action="auth.sign_in", tenant=synced.secondary).get()
    assert (drill.tenant, drill.kind, drill.outcome) == (synced.primary, "switch", "passed")
    assert drill.switch_event == switch
    report = drill.report
    assert report["switched_by"] == "alice" and report["reverted_by"] == "alice" and report["forced"] is False
    assert report["first_sign_in_by"] == "andy"
    assert report["seconds_to_first_sign_in"] == round((first.created_at - switch.created_at).total_seconds(), 1)
    assert report["seconds_on_bcp"] >= report["seconds_to_first_sign_in"] >= 0
    assert audit_events().get(action="continuity.drill_switch_record").changes["switch_event"] == switch.pk

    # The daily scan finds nothing more to record; and it records a pair whose signal was missed, once.
    assert drills.switch_drills_catch_up() == []
    drill.delete()
    # The switch moved to 125 s before the first sign-in, in the audit log and in enablement's record alike.
    audit_events().filter(pk=switch.pk).update(created_at=first.created_at - timedelta(seconds=125))
    Switch.objects.filter(audit_event=switch).update(at=first.created_at - timedelta(seconds=125))
    made = drills.switch_drills_catch_up()
    assert len(made) == 1 and made[0].report["seconds_to_first_sign_in"] == 125.0
    assert drills.switch_drills_catch_up() == []
    assert Drill.objects.filter(kind="switch").count() == 1

    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    page = client.get(reverse("continuity:drill", args=[made[0].pk])).text
    assert "Switch to the BCP tenant and back" in page and "From Submit to the first user signed in" in page
    assert '<dd data-testid="time-to-first-sign-in">2 min 5 s</dd>' in page
    assert "the system, from the audit log" in page


@pytest.mark.usefixtures("_fresh_routing_cache")
def test_a_forced_switch_nobody_signed_in_to_is_recorded_with_findings(synced, real_switch):  # noqa: F811
    from sync.models import SyncConfiguration

    SyncConfiguration.objects.filter(mapping=synced).update(enabled=False)
    real_switch(synced, "secondary", force=True, reason="Carrier outage")
    real_switch(synced, "primary")
    drill = Drill.objects.get()
    assert drill.outcome == "partial" and drill.report["forced_checks"] == ["sync_enabled"]
    assert [f["code"] for f in drill.report["findings"]] == ["no_sign_in", "forced"]
    assert drill.report["seconds_to_first_sign_in"] is None


def test_the_drills_are_paginated_newest_first_and_htmx_gets_the_table_only(plan_admin, tenant, tenant_admin):
    _more_drills(tenant, tenant_admin, 30)
    first = plan_admin.get(reverse("continuity:drills")).text
    assert first.count('data-testid="drill-row"') == 25 and "Page 1 of 2" in first
    assert first.index("Drill 0<") < first.index("Drill 1<")
    partial = plan_admin.get(reverse("continuity:drills") + "?page=2", headers={"HX-Request": "true"}).text
    assert "<html" not in partial and 'id="drill-table"' not in partial
    assert partial.count('data-testid="drill-row"') == 5 and "Drill 29<" in partial


def test_the_bcp_tenant_keeps_no_settings_of_its_own_and_sends_no_reminders(client, synced):  # noqa: F811
    """Its plan is a copy: the owners and the schedule live on the primary, and so do the reminders."""
    from continuity.reminders import reminders_send

    bcp_admin = User.objects.get(username="alice", is_bcp_copy=True)
    client.force_login(bcp_admin)
    page = client.get(reverse("continuity:settings"))
    assert page.status_code == 200 and 'data-testid="settings-on-primary"' in page.text
    assert 'name="owners"' not in page.text
    response = client.post(reverse("continuity:settings"), {"drill_every_months": "1"})
    assert response.status_code == 409 and "the plan, its owners and its drill schedule are kept there" in response.text
    assert not Plan.objects.filter(tenant=synced.secondary).exists()
    # Even a plan row made there some other way sends nothing: the copied contacts are the primary's to review.
    Plan.objects.create(tenant=synced.secondary)
    EmergencyContact.objects.filter(tenant=synced.secondary).update(last_reviewed=TODAY - timedelta(days=400))
    assert all(sent.tenant_id != synced.secondary_id for sent in reminders_send())
