"""Deleting something still in use says what uses it and what will happen, and asks first; where the
database would refuse (PROTECT) the page says what to change and offers no Delete button."""

import pytest

from audit.services import Actor
from contactcenter import services
from contactcenter.models import AgentProfile, Deletion, HoursOfOperation, Skill, SkillAssignment, Team


@pytest.fixture
def admin_client(as_persona):
    return as_persona("tenant_admin")


def test_a_skill_a_point_of_contact_routes_to_is_blocked(admin_client, config):
    skill = config["skills"]
    page = admin_client.get(f"/admin/skills/{skill.pk}/delete/")
    content = page.content.decode()
    assert page.context["blocked"] is True
    assert "Main line" in content and "Route them to another skill first." in content
    assert "Users who hold this skill: 1" in content
    assert 'class="danger"' not in content

    response = admin_client.post(f"/admin/skills/{skill.pk}/delete/")
    assert response.status_code == 409
    assert "Route them to another skill first" in response.context["error"]
    assert Skill.objects.filter(pk=skill.pk).exists()
    assert not Deletion.objects.exists()


def test_a_skill_only_held_by_users_is_deleted_after_asking(admin_client, tenant, config):
    skill = services.skill_create(tenant=tenant, name="Spanish", actor=Actor.system())
    services.agent_update(user=config["users"], username="zoe", role=config["users"].role,
                          skills=[(config["skills"], 4), (skill, 2)], actor=Actor.system())
    page = admin_client.get(f"/admin/skills/{skill.pk}/delete/")
    assert page.context["blocked"] is False
    assert "They lose this skill." in page.content.decode()
    assert 'class="danger"' in page.content.decode()

    assert admin_client.post(f"/admin/skills/{skill.pk}/delete/").status_code == 302
    assert list(SkillAssignment.objects.filter(agent__user=config["users"]).values_list("skill__name", flat=True)) \
        == ["Billing"]
    assert Deletion.objects.get().natural_key == "Spanish"


def test_a_team_with_members_is_deleted_after_asking_and_members_stay(admin_client, config):
    team = config["teams"]
    page = admin_client.get(f"/admin/teams/{team.pk}/delete/")
    content = page.content.decode()
    assert "Members: 1" in content and "zoe" in content and "They stay, without a team." in content
    before = AgentProfile.objects.get(user=config["users"]).updated_at
    assert admin_client.post(f"/admin/teams/{team.pk}/delete/").status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    profile = AgentProfile.objects.get(user=config["users"])
    assert profile.team is None
    assert profile.updated_at > before  # the sync sees that the member changed


def test_hours_a_point_of_contact_uses_are_blocked(admin_client, config):
    hours = config["hours"]
    page = admin_client.get(f"/admin/hours/{hours.pk}/delete/")
    assert page.context["blocked"] is True
    assert "Give them other hours of operation first." in page.content.decode()
    assert admin_client.post(f"/admin/hours/{hours.pk}/delete/").status_code == 409
    assert HoursOfOperation.objects.filter(pk=hours.pk).exists()


def test_blocked_deletion_is_possible_once_the_user_changed_what_used_it(admin_client, config):
    poc, skill = config["points-of-contact"], config["skills"]
    assert admin_client.post(f"/admin/points-of-contact/{poc.pk}/delete/").status_code == 302
    assert admin_client.get(f"/admin/skills/{skill.pk}/delete/").context["blocked"] is False
    assert admin_client.post(f"/admin/skills/{skill.pk}/delete/").status_code == 302
    assert set(Deletion.objects.values_list("entity_type", "natural_key")) == {
        ("point_of_contact", "Main line"), ("skill", "Billing")}


def test_unused_entries_say_nothing_uses_them(admin_client, config):
    page = admin_client.get(f"/admin/tags/{config['tags'].pk}/delete/")
    assert "Nothing else uses it." in page.content.decode()


def test_an_administrator_cannot_delete_themself(admin_client, tenant_admin):
    response = admin_client.post(f"/admin/users/{tenant_admin.pk}/delete/")
    assert response.status_code == 409
    assert "your own account" in response.context["error"]


def test_deleting_a_user_removes_the_sign_in_and_records_the_username(admin_client, config):
    user = config["users"]
    page = admin_client.get(f"/admin/users/{user.pk}/delete/")
    assert "Skills held: 1" in page.content.decode()
    assert admin_client.post(f"/admin/users/{user.pk}/delete/").status_code == 302
    deletion = Deletion.objects.get()
    assert (deletion.entity_type, deletion.natural_key, deletion.object_id) == ("user", "zoe", user.pk)
