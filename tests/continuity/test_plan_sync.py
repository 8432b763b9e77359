"""The plan is configuration: the sync copies it to the BCP tenant, where it can be read during an outage."""

from django.urls import reverse

from accounts.models import User
from audit.services import Actor
from continuity.models import CriticalSystem, EmergencyContact, Plan, PlanTeam, Procedure
from continuity.plan import services
from sync.models import Correlation
from tenants.models import BcpMapping, Tenant
from tests.sync.conftest import configured, mapping, run_sync, sync_enabled  # noqa: F401
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

SYSTEM = CriticalSystem.ENTITY_TYPE


def _sync(configured):  # noqa: F811
    run = run_sync(configured)
    assert run.status == "succeeded", run.errors
    return run


def test_a_contact_points_at_the_bcp_copy_of_its_team(configured, sync_enabled, bcp_tenant):  # noqa: F811
    _sync(configured)
    source = EmergencyContact.objects.get(tenant=configured, name="Dana Duty")
    copy = EmergencyContact.objects.get(tenant=bcp_tenant, name="Dana Duty")
    # Ids are per database (the copy is in another region's): the link is to the BCP tenant's own team.
    assert copy.team is not None and copy._state.db != source._state.db
    assert copy.team.tenant_id == bcp_tenant.pk and copy.team.name == source.team.name
    assert (copy.phone, copy.position) == (source.phone, source.position)
    system = CriticalSystem.objects.get(tenant=bcp_tenant, name="IVR")
    assert system.responsible_team.tenant_id == bcp_tenant.pk


def test_a_procedures_steps_arrive_in_order_and_follow_changes(configured, sync_enabled, bcp_tenant):  # noqa: F811
    _sync(configured)
    source = Procedure.objects.get(tenant=configured, kind=Procedure.Kind.DETECTION)
    copy = Procedure.objects.get(tenant=bcp_tenant, kind=Procedure.Kind.DETECTION)
    expected = list(source.steps.order_by("position").values_list("position", "text"))
    assert list(copy.steps.order_by("position").values_list("position", "text")) == expected
    assert all(step.team.tenant_id == bcp_tenant.pk for step in copy.steps.select_related("team"))
    last = source.steps.order_by("-position").first()
    services.procedure_step_move(tenant=configured, step=last, direction="up", actor=Actor.system())
    _sync(configured)
    assert list(copy.steps.order_by("position").values_list("text", flat=True)) == \
        list(source.steps.order_by("position").values_list("text", flat=True))


def test_a_removed_system_disappears_and_a_renamed_one_follows(configured, sync_enabled, bcp_tenant):  # noqa: F811
    _sync(configured)
    actor = Actor.system()
    services.section_item_delete(tenant=configured, section_key=SYSTEM, actor=actor,
                                 obj=CriticalSystem.objects.get(tenant=configured, name="ACD"))
    # Two names swapped: the engine's placeholders let the copies swap too.
    ivr = CriticalSystem.objects.get(tenant=configured, name="IVR")
    network = CriticalSystem.objects.get(tenant=configured, name="Network services")
    services.section_item_update(tenant=configured, section_key=SYSTEM, obj=ivr, values={"name": "Tmp"}, actor=actor)
    services.section_item_update(tenant=configured, section_key=SYSTEM, obj=network, values={"name": "IVR"},
                                 actor=actor)
    services.section_item_update(tenant=configured, section_key=SYSTEM, obj=ivr, values={"name": "Network services"},
                                 actor=actor)
    changes = run_sync(configured)
    assert changes.status == "succeeded", changes.errors
    assert changes.counts[SYSTEM]["deleted"] == 1
    names = list(CriticalSystem.objects.filter(tenant=bcp_tenant).order_by("position").values_list("name", flat=True))
    assert names == list(CriticalSystem.objects.filter(tenant=configured).order_by("position")
                         .values_list("name", flat=True))
    assert "ACD" not in names
    pair = BcpMapping.objects.get(secondary=bcp_tenant)
    assert Correlation.objects.filter(mapping=pair, entity_type=SYSTEM).count() == len(names)


def test_a_removed_team_leaves_the_copies_without_one(configured, sync_enabled, bcp_tenant):  # noqa: F811
    _sync(configured)
    team = EmergencyContact.objects.get(tenant=configured, name="Dana Duty").team
    services.section_item_delete(tenant=configured, section_key=PlanTeam.ENTITY_TYPE, obj=team, actor=Actor.system())
    _sync(configured)
    assert not PlanTeam.objects.filter(tenant=bcp_tenant, name=team.name).exists()
    assert EmergencyContact.objects.get(tenant=bcp_tenant, name="Dana Duty").team is None


def test_the_sync_page_lists_a_removed_row_as_a_change(client, configured, sync_enabled):  # noqa: F811
    _sync(configured)
    services.section_item_delete(tenant=configured, section_key=SYSTEM, actor=Actor.system(),
                                 obj=CriticalSystem.objects.get(tenant=configured, name="ACD"))
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    page = client.get(reverse("sync:changes")).text
    assert "ACD" in page


def test_the_bcp_tenant_shows_the_copied_plan_with_a_note(client, configured, sync_enabled, bcp_tenant):  # noqa: F811
    _sync(configured)
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    page = client.get(reverse("continuity:plan")).text
    assert 'data-testid="copy-note"' in page and "copied from the primary tenant “Classics Inc.”" in page
    assert "Last copied:" in page and "overwritten by the next sync" in page
    assert "Network services" in page and "Dana Duty" in page
    assert "Start the plan" not in page and ">Edit" not in page
    version = Plan.objects.get(tenant=configured).version
    assert f"(version {version} of the primary's plan)" in page and 'data-testid="copy-behind"' not in page
    # The primary moves on: the copy says it is behind, and by how much.
    system = CriticalSystem.objects.filter(tenant=configured).first()
    services.section_item_update(tenant=configured, section_key=SYSTEM, obj=system,
                                 values={"recovery_time_goal": 5}, actor=Actor.system())
    page = client.get(reverse("continuity:plan")).text
    assert f"it is at version {version + 1}" in page


def test_the_copy_note_on_the_active_bcp_tenant_does_not_send_people_to_the_primary(
        client, configured, sync_enabled, bcp_tenant):  # noqa: F811
    _sync(configured)
    BcpMapping.objects.filter(primary=configured).update(active_side=BcpMapping.Side.SECONDARY)
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    note = client.get(reverse("continuity:plan")).text.split('data-testid="copy-note"')[1].split("</div>")[0]
    assert "syncing is paused until someone switches back to the primary on BC Enablement" in note
    assert "change the plan on the primary tenant" not in note


def test_starting_a_plan_on_the_bcp_tenant_says_when(client, configured, sync_enabled, bcp_tenant):  # noqa: F811
    from tests.factories import UserFactory, role_of

    BcpMapping.objects.filter(primary=configured).update(active_side=BcpMapping.Side.SECONDARY)
    client.force_login(UserFactory(username="bea", tenant=bcp_tenant, role=role_of(bcp_tenant, "Administrator")))
    response = client.post(reverse("continuity:plan_start"))
    assert response.status_code == 409
    assert "Start the plan on the primary once someone has switched back to it on BC Enablement." in response.text


def test_the_bcp_tenant_before_the_first_sync_says_nothing_is_copied(client, configured, bcp_tenant):  # noqa: F811
    from tests.factories import UserFactory, role_of

    client.force_login(UserFactory(username="bea", tenant=bcp_tenant, role=role_of(bcp_tenant, "Administrator")))
    page = client.get(reverse("continuity:plan")).text
    assert "Nothing has been copied yet" in page and "Start the plan</button>" not in page
    assert client.post(reverse("continuity:plan_start")).status_code == 409


def test_the_demo_plan_is_copied_to_classics_bcp(db):
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    call_command("seed_demo", stdout=StringIO())
    bcp, primary = Tenant.objects.get(name="Classics Inc. BCP"), Tenant.objects.get(name="Classics Inc.")
    copies = EmergencyContact.objects.filter(tenant=bcp).order_by("position")
    assert [c.name for c in copies] == ["Grace Hopper", "Ken Thompson"]
    assert [c.is_stale(timezone.localdate()) for c in copies] == [False, True]
    assert CriticalSystem.objects.filter(tenant=bcp, name="IVR").exists()
    call_command("seed_demo", stdout=StringIO())  # again: nothing doubles
    assert EmergencyContact.objects.filter(tenant=primary).count() == 2


def test_a_review_date_at_the_end_of_the_calendar_reaches_the_bcp_copy_and_it_renders(
        client, configured, sync_enabled, bcp_tenant):  # noqa: F811
    from datetime import date

    EmergencyContact.objects.filter(tenant=configured, name="Dana Duty").update(last_reviewed=date(9999, 12, 31))
    _sync(configured)
    assert EmergencyContact.objects.get(tenant=bcp_tenant, name="Dana Duty").last_reviewed == date(9999, 12, 31)
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    response = client.get(reverse("continuity:plan"))
    assert response.status_code == 200 and "Dana Duty" in response.text
