"""The plan's services: the starter plan, versions, audit, tombstones, positions, names."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from audit.services import Actor
from contactcenter.models import Deletion
from continuity.models import (
    ActivationTrigger,
    CriticalSystem,
    EmergencyContact,
    Plan,
    PlanTeam,
    PlanVersion,
    Procedure,
    ProcedureStep,
)
from continuity.plan import services
from tests.auditlog import audit_events

SYSTEM, TEAM, CONTACT = CriticalSystem.ENTITY_TYPE, PlanTeam.ENTITY_TYPE, EmergencyContact.ENTITY_TYPE


def _names(model, tenant):
    return list(model.objects.filter(tenant=tenant).order_by("position").values_list("name", flat=True))


def _positions(model, tenant):
    return list(model.objects.filter(tenant=tenant).order_by("position").values_list("position", flat=True))


def test_starting_the_plan_fills_it_with_the_usual_list_as_version_one(planless_tenant, tenant_admin):
    plan = services.plan_start(tenant=planless_tenant, actor=Actor(user=tenant_admin))
    assert plan.version == 1
    systems = _names(CriticalSystem, planless_tenant)
    assert systems[:4] == ["Network services", "IVR", "ACD", "Email and web chat"]
    assert {"Electrical power", "IT support", "HR support", "Physical facility", "CRM and other applications"} \
        <= set(systems)
    assert _positions(CriticalSystem, planless_tenant) == list(range(1, len(systems) + 1))
    assert "Plan coordination" in _names(PlanTeam, planless_tenant)
    detection = Procedure.objects.get(tenant=planless_tenant, kind=Procedure.Kind.DETECTION)
    damage = Procedure.objects.get(tenant=planless_tenant, kind=Procedure.Kind.DAMAGE)
    assert detection.name == "Detection, notification and escalation" and damage.name == "Damage assessment"
    assert list(detection.steps.values_list("position", flat=True)) == [1, 2, 3, 4]
    outage = ActivationTrigger.objects.get(tenant=planless_tenant, action=ActivationTrigger.Action.BC_ENABLEMENT)
    assert "primary region" in outage.criterion
    version = PlanVersion.objects.get(tenant=planless_tenant)
    assert (version.number, version.actor, version.actor_name) == (1, tenant_admin, "alice")
    assert version.snapshot["sections"][SYSTEM][1]["name"] == "IVR"
    assert audit_events().filter(action="continuity.plan_started", tenant=planless_tenant).exists()


def test_the_starter_plan_is_written_in_the_language_of_whoever_starts_it(planless_tenant):
    with translation.override("de"):
        services.plan_start(tenant=planless_tenant, actor=Actor.system())
    assert "Stromversorgung" in _names(CriticalSystem, planless_tenant)
    assert Procedure.objects.get(tenant=planless_tenant, kind=Procedure.Kind.DAMAGE).name == "Schadensbewertung"


def test_a_second_start_is_refused_and_changes_nothing(tenant):
    with pytest.raises(services.PlanError, match="already has a continuity plan"):
        services.plan_start(tenant=tenant, actor=Actor.system())
    assert Plan.objects.get(tenant=tenant).version == 1 and PlanVersion.objects.filter(tenant=tenant).count() == 1


def test_a_change_is_versioned_with_who_what_and_the_whole_plan(tenant, tenant_admin):
    ivr = CriticalSystem.objects.get(tenant=tenant, name="IVR")
    _obj, version = services.section_item_update(tenant=tenant, section_key=SYSTEM, obj=ivr,
                                                 values={"recovery_time_goal": 5}, actor=Actor(user=tenant_admin))
    assert version.number == 2 and Plan.objects.get(tenant=tenant).version == 2
    assert version.summary == "Changed critical system “IVR”: Recovery-time goal"
    assert version.changes == [{"section": SYSTEM, "item": "IVR", "field": "recovery_time_goal", "old": "15",
                                "new": "5"}]
    ivr_now = next(i for i in version.snapshot["sections"][SYSTEM] if i["name"] == "IVR")
    assert ivr_now["values"]["recovery_time_goal"] == "5"
    event = audit_events().get(action="continuity.critical_system_changed")
    assert event.actor == tenant_admin and event.tenant == tenant


def test_a_change_that_changes_nothing_writes_no_version(tenant, admin_actor):
    ivr = CriticalSystem.objects.get(tenant=tenant, name="IVR")
    _obj, version = services.section_item_update(tenant=tenant, section_key=SYSTEM, obj=ivr,
                                                 values={"name": "IVR", "recovery_time_goal": 15}, actor=admin_actor)
    assert version is None
    first = CriticalSystem.objects.filter(tenant=tenant).order_by("position").first()
    assert services.section_item_move(tenant=tenant, section_key=SYSTEM, obj=first, direction="up",
                                      actor=admin_actor) is None
    assert PlanVersion.objects.filter(tenant=tenant).count() == 1
    assert not audit_events().filter(action__startswith="continuity.critical_system").exists()


def test_names_are_unique_per_tenant_whatever_the_case(tenant, other_tenant, admin_actor):
    with pytest.raises(services.PlanError) as error:
        services.section_item_create(tenant=tenant, section_key=SYSTEM, values={"name": "ivr"}, actor=admin_actor)
    assert error.value.field == "name" and "already has a critical system named “ivr”" in error.value.message
    services.plan_start(tenant=other_tenant, actor=Actor.system())  # another tenant may use the same names
    services.section_item_create(tenant=other_tenant, section_key=SYSTEM, values={"name": "Dialler"},
                                 actor=Actor.system())
    services.section_item_create(tenant=tenant, section_key=SYSTEM, values={"name": "Dialler"}, actor=admin_actor)
    with pytest.raises(services.PlanError, match="Enter a name"):
        services.section_item_create(tenant=tenant, section_key=TEAM, values={"name": "  "}, actor=admin_actor)


def test_a_link_to_another_tenants_row_is_refused(tenant, other_tenant, admin_actor):
    services.plan_start(tenant=other_tenant, actor=Actor.system())
    foreign = PlanTeam.objects.filter(tenant=other_tenant).first()
    with pytest.raises(services.PlanError) as error:
        services.section_item_create(tenant=tenant, section_key=CONTACT, values={"name": "Pat", "team": foreign},
                                     actor=admin_actor)
    assert error.value.field == "team"
    assert not EmergencyContact.objects.filter(tenant=tenant).exists()


def test_new_rows_go_last_and_moves_renumber(tenant, admin_actor):
    for name in ("Ann", "Ben", "Cy"):
        services.section_item_create(tenant=tenant, section_key=CONTACT, values={"name": name}, actor=admin_actor)
    assert _names(EmergencyContact, tenant) == ["Ann", "Ben", "Cy"]
    cy = EmergencyContact.objects.get(tenant=tenant, name="Cy")
    version = services.section_item_move(tenant=tenant, section_key=CONTACT, obj=cy, direction="up",
                                         actor=admin_actor)
    assert _names(EmergencyContact, tenant) == ["Ann", "Cy", "Ben"]
    assert version.summary == "Moved emergency contact “Cy” up"
    assert {"section": CONTACT, "item": "Cy", "field": "position", "old": "3", "new": "2"} in version.changes
    assert audit_events().filter(action="continuity.emergency_contact_moved").count() == 1
    assert _positions(EmergencyContact, tenant) == [1, 2, 3]


def test_a_removal_renumbers_leaves_a_tombstone_and_empties_links(tenant, admin_actor):
    it = PlanTeam.objects.get(tenant=tenant, name="IT")
    version = services.section_item_delete(tenant=tenant, section_key=TEAM, obj=it, actor=admin_actor)
    assert version.summary == "Removed plan team “IT”"
    assert _positions(PlanTeam, tenant) == list(range(1, PlanTeam.objects.filter(tenant=tenant).count() + 1))
    tombstone = Deletion.objects.get(tenant=tenant)
    assert (tombstone.entity_type, tombstone.natural_key, tombstone.object_id) == ("plan_team", "IT", it.pk)
    assert CriticalSystem.objects.get(tenant=tenant, name="IT support").responsible_team is None
    # The systems that lost their team are part of what changed.
    assert {"section": SYSTEM, "item": "IT support", "field": "responsible_team", "old": "IT", "new": ""} \
        in version.changes
    assert audit_events().filter(action="continuity.plan_team_deleted").exists()


def test_procedure_steps_are_added_edited_reordered_and_removed(tenant, admin_actor):
    damage = Procedure.objects.get(tenant=tenant, kind=Procedure.Kind.DAMAGE)
    hr = PlanTeam.objects.get(tenant=tenant, name="HR")
    version = services.procedure_step_add(tenant=tenant, procedure=damage, text="Call the insurer", team=hr,
                                          actor=admin_actor)
    assert version.summary == "Changed procedure “Damage assessment”: Steps"
    assert "5. Call the insurer (HR)" in version.changes[0]["new"]
    last = damage.steps.order_by("-position").first()
    services.procedure_step_move(tenant=tenant, step=last, direction="up", actor=admin_actor)
    services.procedure_step_update(tenant=tenant, step=last, text="Call the insurer today", team=None,
                                   actor=admin_actor)
    texts = list(damage.steps.order_by("position").values_list("text", flat=True))
    assert texts[3] == "Call the insurer today" and len(texts) == 5
    services.procedure_step_remove(tenant=tenant, step=damage.steps.order_by("position").first(), actor=admin_actor)
    assert list(damage.steps.order_by("position").values_list("position", flat=True)) == [1, 2, 3, 4]
    assert PlanVersion.objects.filter(tenant=tenant).count() == 5
    with pytest.raises(services.PlanError) as error:
        services.procedure_step_add(tenant=tenant, procedure=damage, text=" ", actor=admin_actor)
    assert error.value.field == "text" and ProcedureStep.objects.filter(procedure=damage).count() == 4


def test_marking_a_contact_reviewed_sets_today(tenant, admin_actor):
    contact, _version = services.section_item_create(
        tenant=tenant, section_key=CONTACT, actor=admin_actor,
        values={"name": "Pat", "last_reviewed": timezone.localdate() - timedelta(days=120)})
    assert contact.is_stale()
    version = services.contact_mark_reviewed(tenant=tenant, contact=contact, actor=admin_actor)
    contact.refresh_from_db()
    assert contact.last_reviewed == timezone.localdate() and not contact.is_stale()
    assert version.summary == "Changed emergency contact “Pat”: Last reviewed"
    assert services.contact_mark_reviewed(tenant=tenant, contact=contact, actor=admin_actor) is None


def test_changes_need_a_started_plan(planless_tenant):
    with pytest.raises(services.PlanError, match="Start the plan first"):
        services.section_item_create(tenant=planless_tenant, section_key=TEAM, values={"name": "IT"},
                                     actor=Actor.system())
    assert not PlanTeam.objects.filter(tenant=planless_tenant).exists()


def test_a_bad_email_is_a_field_error(tenant, admin_actor):
    with pytest.raises(services.PlanError) as error:
        services.section_item_create(tenant=tenant, section_key=CONTACT, values={"name": "Pat", "email": "nope"},
                                     actor=admin_actor)
    assert error.value.field == "email"
