from datetime import date, time

import pytest

from audit.services import Actor
from bcp_project.exceptions import ApplicationError
from contactcenter import services
from contactcenter.models import AgentProfile, Deletion, HoursDay, Skill, SkillAssignment
from tests.auditlog import audit_events
from tests.factories import role_of


def test_it_creates_a_configuration_through_the_services(tenant):
    skill = services.skill_create(tenant=tenant, name="Billing", channel="phone", actor=Actor.system())
    hours = services.hours_create(tenant=tenant, name="Office", timezone="Europe/Berlin",
                                  exceptions=[{"date": date(2026, 12, 25), "name": "Christmas", "closed": True}],
                                  actor=Actor.system())
    assert HoursDay.objects.filter(hours=hours).count() == 7
    services.point_of_contact_create(tenant=tenant, name="Main line", channel="phone", address="+14155550123",
                                     skill=skill, hours=hours, actor=Actor.system())
    team = services.team_create(tenant=tenant, name="Blue", actor=Actor.system())
    user = services.agent_create(tenant=tenant, username="zoe", password="pw-123456789",
                                 role=role_of(tenant, "Agent"), team=team, skills={skill: 3}, actor=Actor.system())
    assert SkillAssignment.objects.get(agent__user=user).proficiency == 3
    services.disposition_create(tenant=tenant, name="Solved", skills=[skill], actor=Actor.system())
    services.unavailable_code_create(tenant=tenant, name="Lunch", actor=Actor.system())
    services.tag_create(tenant=tenant, name="VIP", actor=Actor.system())


def test_it_refuses_a_duplicate_name_in_any_case(tenant):
    services.team_create(tenant=tenant, name="Blue", actor=Actor.system())
    with pytest.raises(ApplicationError) as exc:
        services.team_create(tenant=tenant, name="BLUE ", actor=Actor.system())
    assert exc.value.field == "name"


def test_it_blocks_deleting_a_routed_skill_and_records_other_deletions(tenant):
    skill = services.skill_create(tenant=tenant, name="Billing", actor=Actor.system())
    hours = services.hours_create(tenant=tenant, name="Office", actor=Actor.system())
    services.point_of_contact_create(tenant=tenant, name="Main", channel="phone", address="+14155550123",
                                     skill=skill, hours=hours, actor=Actor.system())
    with pytest.raises(ApplicationError):
        services.skill_delete(skill=skill, actor=Actor.system())
    with pytest.raises(ApplicationError):
        services.hours_delete(hours=hours, actor=Actor.system())
    team = services.team_create(tenant=tenant, name="Blue", actor=Actor.system())
    user = services.agent_create(tenant=tenant, username="zoe", password="pw-123456789",
                                 role=role_of(tenant, "Agent"), team=team, actor=Actor.system())
    services.team_delete(team=team, actor=Actor.system())
    assert AgentProfile.objects.get(user=user).team is None
    services.agent_delete(user=user, actor=Actor.system())
    assert set(Deletion.objects.values_list("entity_type", "natural_key")) == {("team", "Blue"), ("user", "zoe")}


def test_it_checks_hours_and_routing(tenant):
    with pytest.raises(ApplicationError) as exc:
        services.hours_create(tenant=tenant, name="Bad", week={d: (time(17), time(9)) for d in range(7)},
                              actor=Actor.system())
    assert exc.value.field == "days"
    email_skill = services.skill_create(tenant=tenant, name="Mail", channel="email", actor=Actor.system())
    hours = services.hours_create(tenant=tenant, name="Office", actor=Actor.system())
    with pytest.raises(ApplicationError) as exc:
        services.point_of_contact_create(tenant=tenant, name="Main", channel="phone", address="+14155550123",
                                         skill=email_skill, hours=hours, actor=Actor.system())
    assert exc.value.field == "skill"
    with pytest.raises(ApplicationError) as exc:
        services.point_of_contact_create(tenant=tenant, name="Main", channel="email", address="not-an-email",
                                         skill=email_skill, hours=hours, actor=Actor.system())
    assert exc.value.field == "address"


def test_it_audits_who_changed_what(as_persona, tenant, tenant_admin):

    client = as_persona("tenant_admin")
    client.post("/admin/skills/new/", {"name": "Billing", "channel": "chat", "direction": "inbound"})
    skill = Skill.objects.get(tenant=tenant, name="Billing")
    client.post(f"/admin/skills/{skill.pk}/", {"name": "Billing", "channel": "email", "direction": "inbound"})
    client.post(f"/admin/skills/{skill.pk}/delete/")
    events = list(audit_events().filter(object_type="contactcenter.Skill").order_by("id"))
    assert [e.action for e in events] == ["skill.create", "skill.update", "skill.delete"]
    assert {e.actor_id for e in events} == {tenant_admin.pk}
    assert events[1].changes == {"channel": ["chat", "email"]}
