"""The plan's versions: the compare logic, the history, a version's page and the compare page, for every persona,
with a fixed number of queries however long the history or the plan is."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from continuity.models import ActivationTrigger, CriticalSystem, EmergencyContact, PlanTeam, PlanVersion, Procedure
from continuity.plan import services
from continuity.versions import snapshots
from continuity.versions.selectors import current_edition
from sync.models import SyncRun
from tests.factories import UserFactory, role_of
from tests.permissions import GET, Row, answers, ask, cases
from tests.queries import CaptureQueriesEverywhere
from tests.sync.conftest import configured, mapping, run_sync, sync_enabled  # noqa: F401
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

SYSTEM, TEAM, CONTACT = CriticalSystem.ENTITY_TYPE, PlanTeam.ENTITY_TYPE, EmergencyContact.ENTITY_TYPE
PROCEDURE, TRIGGER = Procedure.ENTITY_TYPE, ActivationTrigger.ENTITY_TYPE

# url name, method, then the answer per persona in the order of PERSONAS: anonymous, agent, supervisor,
# tenant_admin, other_admin (a tenant without a plan: its own pages are empty, Classics Inc.'s versions do not exist
# for it), rep (not impersonating: no tenant to read); given: "version" when the path names Classics Inc.'s
# version 1.
EVERYONE = answers(302, 200, 200, 200, 200, 404)
ITS_OWN = answers(302, 200, 200, 200, 404, 404)
URLS = [
    Row("continuity:versions", GET, EVERYONE),
    Row("continuity:version", GET, ITS_OWN, given="version"),
    Row("continuity:compare", GET, ITS_OWN, given="version"),
    Row("continuity:print", GET, EVERYONE),
    Row("continuity:version_print", GET, ITS_OWN, given="version"),
    Row("continuity:pdf", GET, EVERYONE),
    Row("continuity:version_pdf", GET, ITS_OWN, given="version"),
]
NUMBERED = {row.name.removeprefix("continuity:") for row in URLS if row.given == "version"}


def url_for(name: str, number: int = 1) -> str:
    """The path of one of these URL names ("version"), naming version `number` if it names one."""
    return reverse(f"continuity:{name}", args=[number] if name in NUMBERED else [])


def _item(item_id, name, **values):
    return {"id": item_id, "name": name, "values": values}


def _snapshot(**sections):
    return {"sections": sections}


def _system(tenant, name):
    return CriticalSystem.objects.get(tenant=tenant, name=name)


def _rename_ivr(tenant, actor):
    services.section_item_update(tenant=tenant, section_key=SYSTEM, obj=_system(tenant, "IVR"), actor=actor,
                                 values={"name": "Voice menu", "recovery_time_goal": 240})


@pytest.fixture
def synced_run(tenant, configured, sync_enabled):  # noqa: F811
    """Classics Inc.'s plan copied to Classics Inc. BCP by one successful sync run."""
    run = run_sync(configured)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return run


@pytest.fixture
def bcp_reader(bcp_tenant, synced_run):
    """An agent of the BCP tenant, where the plan's rows arrive through the sync."""
    from accounts.roles import AGENT

    return UserFactory(username="bea", tenant=bcp_tenant, role=role_of(bcp_tenant, AGENT))


# --- the compare logic ------------------------------------------------------------------------------------------

def test_compare_lists_added_removed_and_changed_items_per_section():
    old = _snapshot(**{SYSTEM: [_item(1, "IVR", failover="BCP tenant"), _item(2, "Fax")],
                       TEAM: [_item(7, "IT", responsibilities="Desktops")]})
    new = _snapshot(**{SYSTEM: [_item(1, "IVR", failover="Second carrier"), _item(3, "Dialler")],
                       TEAM: [_item(7, "IT", responsibilities="Desktops")]})
    diffs = {diff.key: diff for diff in snapshots.compare(old, new)}
    systems = diffs[SYSTEM]
    assert [item.name for item in systems.added] == ["Dialler"]
    assert [item.name for item in systems.removed] == ["Fax"]
    [changed] = systems.changed
    assert changed.name == "IVR"
    assert [(f.label, f.old, f.new) for f in changed.fields] == [
        ("Backup and failover arrangement", "BCP tenant", "Second carrier")]
    assert not diffs[TEAM].has_changes and not diffs[CONTACT].has_changes
    assert snapshots.has_differences(list(diffs.values()))


def test_a_renamed_item_is_a_change_of_its_name_not_a_removal_and_an_addition():
    old = _snapshot(**{SYSTEM: [_item(1, "IVR")]})
    new = _snapshot(**{SYSTEM: [_item(1, "Voice menu")]})
    [systems] = [d for d in snapshots.compare(old, new) if d.key == SYSTEM]
    assert not systems.added and not systems.removed
    [changed] = systems.changed
    assert (changed.name, changed.old_name) == ("Voice menu", "IVR")
    assert [(f.key, f.old, f.new) for f in changed.fields] == [("name", "IVR", "Voice menu")]


def test_values_are_compared_as_a_reader_reads_them():
    old = _snapshot(**{
        SYSTEM: [_item(1, "IVR", recovery_time_goal="30")],
        PROCEDURE: [_item(2, "Triage", kind="other", steps=[{"text": "Call", "team": ""}])],
        TRIGGER: [_item(3, "Outage", action="other")],
        CONTACT: [_item(4, "Pat", last_reviewed="2026-01-05")],
    })
    new = _snapshot(**{
        SYSTEM: [_item(1, "IVR", recovery_time_goal="240")],
        PROCEDURE: [_item(2, "Triage", kind="damage", steps=[{"text": "Call", "team": ""},
                                                             {"text": "Count the damage", "team": "IT"}])],
        TRIGGER: [_item(3, "Outage", action="bc_enablement")],
        CONTACT: [_item(4, "Pat", last_reviewed="2026-03-01")],
    })
    fields = {(d.key, f.key): (f.old, f.new) for d in snapshots.compare(old, new) for i in d.changed for f in i.fields}
    assert fields[(SYSTEM, "recovery_time_goal")] == ("30 minutes", "4 hours")
    assert fields[(PROCEDURE, "kind")] == ("Other procedure", "Damage assessment")
    assert fields[(PROCEDURE, "steps")] == ("1. Call", "1. Call\n2. Count the damage (IT)")
    assert fields[(TRIGGER, "action")] == ("Other action", "Switch to the BCP tenant on BC Enablement")
    assert fields[(CONTACT, "last_reviewed")] == ("Jan. 5, 2026", "March 1, 2026")
    with translation.override("de"):
        assert snapshots.value_text(SYSTEM, "recovery_time_goal", "90") in ("1 Stunde 30 Minuten", "1 hour 30 minutes")
        assert "2026" in snapshots.value_text(CONTACT, "last_reviewed", "2026-03-01")


def test_a_move_is_reported_for_the_item_that_moved_not_for_the_ones_it_passed():
    old = _snapshot(**{CONTACT: [_item(1, "A"), _item(2, "B"), _item(3, "C"), _item(4, "D")]})
    new = _snapshot(**{CONTACT: [_item(4, "D"), _item(1, "A"), _item(2, "B"), _item(3, "C")]})
    [contacts] = [d for d in snapshots.compare(old, new) if d.key == CONTACT]
    assert [(i.name, [(f.key, f.old, f.new) for f in i.fields]) for i in contacts.changed] == [
        ("D", [("position", "4", "1")])]


def test_removing_an_item_does_not_report_the_others_as_moved():
    old = _snapshot(**{CONTACT: [_item(1, "A"), _item(2, "B"), _item(3, "C")]})
    new = _snapshot(**{CONTACT: [_item(2, "B"), _item(3, "C")]})
    [contacts] = [d for d in snapshots.compare(old, new) if d.key == CONTACT]
    assert [i.name for i in contacts.removed] == ["A"] and not contacts.changed


def test_the_same_plan_has_no_differences(tenant):
    snapshot = PlanVersion.objects.get(tenant=tenant, number=1).snapshot
    assert not snapshots.has_differences(snapshots.compare(snapshot, snapshot))


def test_durations_read_naturally():
    assert [snapshots.duration_text(m) for m in (30, 60, 90, 240, 1440, 2880 + 15)] == [
        "30 minutes", "1 hour", "1 hour 30 minutes", "4 hours", "1 day", "2 days 15 minutes"]


# --- who may open the pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_version_url_for_every_persona(as_persona, tenant, row, persona):
    response = ask(as_persona(persona), row, persona, args=[1] if row.given == "version" else [])
    if response.status_code == 200 and persona == "other_admin":
        # Their own tenant's (empty) plan, never Classics Inc.'s.
        body = response.content.decode("latin-1")
        assert "Network services" not in body and "Classics" not in body


def test_anonymous_visitors_are_sent_to_sign_in(client, tenant):
    response = client.get(url_for("versions"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_a_representative_reads_them_while_impersonating_the_tenant(client, rep, tenant):
    client.force_login(rep)
    client.post(reverse("support:start", args=[tenant.pk]))
    for row in URLS:
        assert client.get(reverse(row.name, args=[1] if row.given else [])).status_code == 200, row.name
    assert "Network services" in client.get(url_for("print")).text


def test_pages_write_nothing(plan_admin, tenant):
    before = PlanVersion.objects.filter(tenant=tenant).count()
    for row in URLS:
        plan_admin.get(reverse(row.name, args=[1] if row.given else []))
    assert PlanVersion.objects.filter(tenant=tenant).count() == before
    assert plan_admin.post(url_for("versions")).status_code == 405


# --- the history --------------------------------------------------------------------------------------------

def test_the_history_lists_every_version_newest_first_with_when_who_and_what(agent_client, tenant, admin_actor):
    _rename_ivr(tenant, admin_actor)
    page = agent_client.get(url_for("versions")).text
    assert "<title>Versions · Continuity Plan · bcp</title>" in page
    assert page.count('data-testid="version-row"') == 2
    assert page.index("Version 2") < page.index("Version 1")
    assert "alice" in page and "Changed critical system “Voice menu”" in page
    assert "Started the plan" in page and "system" in page
    assert f'href="{url_for("compare", 1)}"' in page and f'href="{url_for("version", 2)}"' in page
    assert 'aria-current="page">Versions</a>' in page


def test_the_history_is_paginated(agent_client, tenant, admin_actor):
    team = PlanTeam.objects.filter(tenant=tenant).first()
    for number in range(30):
        services.section_item_update(tenant=tenant, section_key=TEAM, obj=team, actor=admin_actor,
                                     values={"responsibilities": f"Round {number}"})
    first = agent_client.get(url_for("versions")).text
    assert first.count('data-testid="version-row"') == 25 and "Page 1 of 2" in first and "Version 31" in first
    second = agent_client.get(url_for("versions") + "?page=2").text
    assert second.count('data-testid="version-row"') == 6 and ">Version 1<" in second
    partial = agent_client.get(url_for("versions") + "?page=2", HTTP_HX_REQUEST="true").text
    assert "<html" not in partial and partial.count('data-testid="version-row"') == 6


def test_a_tenant_without_a_plan_has_an_empty_history(client, other_admin):
    client.force_login(other_admin)
    page = client.get(url_for("versions")).text
    assert 'data-testid="versions-empty"' in page and "No version yet" in page


# --- one version --------------------------------------------------------------------------------------------

def test_an_older_version_shows_the_plan_as_it_was_and_says_it_is_not_current(agent_client, tenant, admin_actor):
    _rename_ivr(tenant, admin_actor)
    page = agent_client.get(url_for("version", 1)).text
    assert "<title>Version 1 · Continuity Plan · bcp</title>" in page
    notice = page.split('data-testid="version-notice">')[1].split("</p>")[0]
    when = PlanVersion.objects.get(tenant=tenant, number=1).created_at
    assert "not the current plan" in notice and "Version 1 of" in notice and str(when.year) in notice
    assert ">IVR</h3>" in page and "Voice menu" not in page and "15 minutes" in page
    assert f'href="{url_for("compare", 1)}"' in page and "Compare with the current plan" in page
    assert f'href="{url_for("version_print", 1)}"' in page and f'href="{url_for("version_pdf", 1)}"' in page


def test_the_latest_version_says_it_is_the_current_plan(agent_client, tenant):
    page = agent_client.get(url_for("version", 1)).text
    assert "this is the current plan" in page and "not the current plan" not in page


@pytest.mark.parametrize("number", [99, 99999999999999999999])
def test_an_unknown_version_is_404(agent_client, tenant, number):
    for name in ("version", "compare", "version_print", "version_pdf"):
        assert agent_client.get(url_for(name, number)).status_code == 404, name


# --- compare ------------------------------------------------------------------------------------------------

def test_compare_with_the_current_plan_shows_each_change_old_to_new(agent_client, tenant, admin_actor):
    _rename_ivr(tenant, admin_actor)
    services.section_item_create(tenant=tenant, section_key=CONTACT, actor=admin_actor,
                                 values={"name": "Jörg Weiß", "phone": "+49 30 1234"})
    services.section_item_delete(tenant=tenant, section_key=SYSTEM, obj=_system(tenant, "ACD"), actor=admin_actor)
    response = agent_client.get(url_for("compare", 1))
    assert response.status_code == 200
    page = response.text
    assert "Version 1 compared with the current plan" in page
    systems = page.split('data-testid="compare-critical_system"')[1].split("</section>")[0]
    assert "Voice menu" in systems and "(was “IVR”)" in systems
    assert "<del>IVR</del>" in systems and "<ins>Voice menu</ins>" in systems
    assert "<del>15 minutes</del>" in systems and "<ins>4 hours</ins>" in systems
    assert 'data-testid="removed"><strong>ACD</strong>' in systems
    contacts = page.split('data-testid="compare-emergency_contact"')[1].split("</section>")[0]
    assert 'data-testid="added"><strong>Jörg Weiß</strong>' in contacts and "+49 30 1234" in contacts
    assert 'data-testid="compare-plan_team"' not in page  # an unchanged section is left out


def test_compare_two_versions_reads_from_the_older_to_the_newer(agent_client, tenant, admin_actor):
    _rename_ivr(tenant, admin_actor)
    services.section_item_create(tenant=tenant, section_key=TEAM, actor=admin_actor, values={"name": "Vendors"})
    page = agent_client.get(url_for("compare", 2) + "?with=1").text
    assert "Version 1 compared with version 2" in page
    assert "<del>IVR</del>" in page and "<ins>Voice menu</ins>" in page and "Vendors" not in page
    assert '<option value="1" selected>' in page


def test_no_differences_says_so(agent_client, tenant):
    page = agent_client.get(url_for("compare", 1)).text
    assert 'data-testid="no-differences"' in page and "version 1 and the current plan are the same" in page


@pytest.mark.parametrize("value", ["abc", "99", "-1", "1.5", "<script>", "99999999999999999999", "１"])
def test_a_bad_version_to_compare_with_is_a_message_and_400(agent_client, tenant, value):
    response = agent_client.get(url_for("compare", 1), {"with": value})
    assert response.status_code == 400
    assert 'data-testid="compare-error"' in response.text and "Choose one from the list of versions" in response.text
    assert "<script>" not in response.text.split('data-testid="compare-error"')[1].split("</p>")[0]


# --- the BCP tenant -----------------------------------------------------------------------------------------

def test_the_bcp_tenant_history_says_the_versions_stay_on_the_primary(client, bcp_reader):
    client.force_login(bcp_reader)
    page = client.get(url_for("versions")).text
    assert "the sync copies the plan from “Classics Inc.”, but not its history" in page


# --- a fixed number of queries ------------------------------------------------------------------------------

def _queries(client, path) -> int:
    with CaptureQueriesEverywhere() as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def _grow(tenant, actor, count: int):
    """Six versions per round, and `count` more rows in every section."""
    start = PlanTeam.objects.filter(tenant=tenant).count()
    for number in range(start, start + count):
        team, _ = services.section_item_create(tenant=tenant, section_key=TEAM, actor=actor,
                                               values={"name": f"Team {number}", "responsibilities": "Calls"})
        services.section_item_create(tenant=tenant, section_key=CONTACT, actor=actor,
                                     values={"name": f"Contact {number}", "team": team})
        services.section_item_create(tenant=tenant, section_key=SYSTEM, actor=actor,
                                     values={"name": f"System {number}", "responsible_team": team})
        procedure, _ = services.section_item_create(tenant=tenant, section_key=PROCEDURE, actor=actor,
                                                    values={"name": f"Procedure {number}"})
        services.procedure_step_add(tenant=tenant, procedure=procedure, text="First", team=team, actor=actor)
        services.section_item_create(tenant=tenant, section_key=TRIGGER, actor=actor,
                                     values={"name": f"Trigger {number}", "procedure": procedure})


@pytest.mark.parametrize("name", ["versions", "version", "compare", "print", "version_print", "pdf", "version_pdf"])
def test_each_page_makes_the_same_number_of_queries_however_long_the_plan(agent_client, tenant, admin_actor, name):
    _grow(tenant, admin_actor, 1)
    small = _queries(agent_client, url_for(name))
    _grow(tenant, admin_actor, 12)
    assert PlanVersion.objects.filter(tenant=tenant).count() > 60
    large = _queries(agent_client, url_for(name))
    assert large == small, f"{name}: {small} queries with a short plan, {large} with a long one"


def test_the_current_edition_knows_its_version_and_date(tenant, admin_actor):
    _rename_ivr(tenant, admin_actor)
    edition = current_edition(tenant=tenant)
    assert (edition.number, edition.is_current, edition.is_copy) == (2, True, False)
    assert edition.created_at <= timezone.now()
    assert edition.line.startswith("Version 2 of ")
    assert edition.filename() == "continuity-plan-classics-inc-v2.pdf"
