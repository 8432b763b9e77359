"""Form validation for every type: the message appears beside the field it is about, nothing is saved."""

import pytest

from contactcenter.models import HoursOfOperation, PointOfContact, Skill, SkillAssignment, Team
from tests.factories import role_of

from .conftest import NEW_PASSWORD, rows, valid_data, week_data


def post(client, slug, data, pk=None):
    url = f"/admin/{slug}/{pk}/" if pk else f"/admin/{slug}/new/"
    return client.post(url, data)


def field_errors(response, field):
    assert response.status_code == 400
    return " ".join(response.context["form"].errors.get(field, []))


@pytest.fixture
def admin_client(as_persona):
    return as_persona("tenant_admin")


@pytest.mark.parametrize("slug", ["teams", "skills", "hours", "points-of-contact", "dispositions",
                                  "unavailable-codes", "tags"])
def test_it_requires_a_name(admin_client, tenant, config, slug):
    response = post(admin_client, slug, {**valid_data(slug, tenant, config), "name": "  "})
    assert "required" in field_errors(response, "name")


@pytest.mark.parametrize("slug,taken", [("teams", "BLUE"), ("skills", "billing"), ("hours", "office HOURS"),
                                        ("points-of-contact", "Main Line"), ("dispositions", "solved"),
                                        ("unavailable-codes", "LUNCH"), ("tags", "vip")])
def test_it_refuses_a_name_taken_in_another_case(admin_client, tenant, config, slug, taken):
    response = post(admin_client, slug, {**valid_data(slug, tenant, config), "name": taken})
    assert "already a" in field_errors(response, "name")


def test_the_same_name_is_fine_in_another_tenant(as_persona, other_tenant, config):
    response = post(as_persona("other_admin"), "teams", {"name": "Blue", "description": ""})
    assert response.status_code == 302
    assert Team.objects.filter(tenant=other_tenant, name="Blue").exists()


def test_a_skill_needs_a_known_channel_and_direction(admin_client, tenant, config):
    response = post(admin_client, "skills", {"name": "X", "channel": "fax", "direction": "sideways"})
    assert "valid choice" in field_errors(response, "channel")
    assert "valid choice" in field_errors(response, "direction")


def test_a_skill_keeps_its_channel_while_points_of_contact_of_that_channel_route_to_it(admin_client, config):
    skill = config["skills"]
    response = post(admin_client, "skills", {"name": skill.name, "channel": "email", "direction": "inbound"},
                    pk=skill.pk)
    assert "Route them to another skill" in field_errors(response, "channel")
    skill.refresh_from_db()
    assert skill.channel == "phone"


@pytest.mark.parametrize("channel,address,message", [
    ("phone", "555-0100", "international format"),
    ("sms", "+0123", "international format"),
    ("email", "support-at-example", "email address"),
    ("chat", "Web Chat!", "entry-point ID"),
    ("social", "#no spaces", "handle"),
])
def test_a_point_of_contact_address_must_suit_its_channel(admin_client, tenant, config, channel, address, message):
    data = {**valid_data("points-of-contact", tenant, config), "channel": channel, "address": address}
    assert message in field_errors(post(admin_client, "points-of-contact", data), "address")


def test_a_point_of_contact_routes_to_a_skill_of_its_channel(admin_client, tenant, config):
    Skill.objects.create(tenant=tenant, name="Mail", channel="email")
    data = {**valid_data("points-of-contact", tenant, config), "channel": "email", "address": "help@example.com"}
    assert "choose a Email skill" in field_errors(post(admin_client, "points-of-contact", data), "skill")
    assert not PointOfContact.objects.filter(address="help@example.com").exists()


def test_a_point_of_contact_address_is_unique_per_channel(admin_client, tenant, config):
    data = {**valid_data("points-of-contact", tenant, config), "address": "+14155550100"}
    assert "already answers" in field_errors(post(admin_client, "points-of-contact", data), "address")


def test_a_point_of_contact_needs_a_skill_and_hours(admin_client, tenant, config):
    data = {**valid_data("points-of-contact", tenant, config), "skill": "", "hours": ""}
    response = post(admin_client, "points-of-contact", data)
    assert "required" in field_errors(response, "skill")
    assert "required" in field_errors(response, "hours")


def test_hours_need_a_known_time_zone(admin_client, tenant, config):
    data = {**valid_data("hours", tenant, config), "timezone": "Mars/Olympus"}
    assert "not a known time zone" in field_errors(post(admin_client, "hours", data), "timezone")


def test_hours_close_after_they_open(admin_client, tenant, config):
    from datetime import time

    data = {**valid_data("hours", tenant, config), **week_data(opens=time(18), closes=time(8))}
    response = post(admin_client, "hours", data)
    assert "after the opening time" in field_errors(response, "day0_closes_at")
    assert not HoursOfOperation.objects.filter(name="Fresh").exists()


def test_an_open_day_needs_both_times(admin_client, tenant, config):
    data = {**valid_data("hours", tenant, config), "day2_opens_at": ""}
    assert "Enter both times" in field_errors(post(admin_client, "hours", data), "day2_opens_at")


def test_an_exception_with_special_hours_needs_its_times(admin_client, tenant, config):
    data = {**valid_data("hours", tenant, config),
            **rows("exceptions", [{"date": "2026-12-24", "name": "Christmas Eve", "opens_at": "09:00"}])}
    data.pop("exceptions-0-closed")
    response = post(admin_client, "hours", data)
    assert response.status_code == 400
    assert "Enter both times" in str(response.context["form"].rows.forms[0].non_field_errors())


def test_two_exceptions_on_one_date_are_refused(admin_client, tenant, config):
    data = {**valid_data("hours", tenant, config), **rows("exceptions", [
        {"date": "2026-12-25", "name": "Christmas", "closed": "on"},
        {"date": "2026-12-25", "name": "Again", "closed": "on"}])}
    response = post(admin_client, "hours", data)
    assert response.status_code == 400
    assert "only one exception" in str(response.context["form"].non_field_errors())


def test_hours_save_the_week_and_the_exceptions(admin_client, tenant, config):
    assert post(admin_client, "hours", valid_data("hours", tenant, config)).status_code == 302
    hours = HoursOfOperation.objects.get(name="Fresh")
    assert [d.closed for d in hours.days.all()] == [False] * 5 + [True] * 2
    assert hours.exceptions.get().name == "Christmas Day"


def test_a_disposition_needs_a_known_classification(admin_client, tenant, config):
    data = {**valid_data("dispositions", tenant, config), "classification": "meh"}
    assert "valid choice" in field_errors(post(admin_client, "dispositions", data), "classification")


def test_a_tag_description_has_a_length_limit(admin_client, tenant, config):
    data = {**valid_data("tags", tenant, config), "description": "x" * 300}
    assert "at most 255" in field_errors(post(admin_client, "tags", data), "description")


def test_an_unavailable_code_name_has_a_length_limit(admin_client, tenant, config):
    data = {**valid_data("unavailable-codes", tenant, config), "name": "x" * 101}
    assert "at most 100" in field_errors(post(admin_client, "unavailable-codes", data), "name")


def test_a_new_user_needs_a_password_a_role_and_a_free_username(admin_client, tenant, config):
    data = {**valid_data("users", tenant, config), "username": "ZOE", "password": "", "role": ""}
    response = post(admin_client, "users", data)
    assert "required" in field_errors(response, "password")
    assert "required" in field_errors(response, "role")
    response = post(admin_client, "users", {**valid_data("users", tenant, config), "username": "ZOE"})
    assert "already taken" in field_errors(response, "username")


def test_a_user_password_must_be_strong_enough(admin_client, tenant, config):
    response = post(admin_client, "users", {**valid_data("users", tenant, config), "password": "abc"})
    assert "too short" in field_errors(response, "password")


def test_a_username_uses_allowed_characters_and_email_is_valid(admin_client, tenant, config):
    response = post(admin_client, "users", {**valid_data("users", tenant, config), "username": "bad name!",
                                            "email": "nope"})
    assert "valid username" in field_errors(response, "username")
    assert "valid email" in field_errors(response, "email")


@pytest.mark.parametrize("proficiency,message", [("0", "greater than or equal to 1"),
                                                 ("21", "less than or equal to 20")])
def test_a_proficiency_runs_from_1_to_20(admin_client, tenant, config, proficiency, message):
    data = {**valid_data("users", tenant, config),
            **rows("skills", [{"skill": config["skills"].pk, "proficiency": proficiency}])}
    response = post(admin_client, "users", data)
    assert response.status_code == 400
    assert message in str(response.context["form"].rows.forms[0].errors["proficiency"])


def test_a_skill_is_listed_once_per_user(admin_client, tenant, config):
    skill = config["skills"].pk
    data = {**valid_data("users", tenant, config),
            **rows("skills", [{"skill": skill, "proficiency": "2"}, {"skill": skill, "proficiency": "3"}])}
    response = post(admin_client, "users", data)
    assert response.status_code == 400
    assert "already listed" in str(response.context["form"].rows.forms[1].errors["skill"])


def test_editing_a_user_keeps_the_password_when_left_empty_and_updates_skills(admin_client, tenant, config):
    user = config["users"]
    data = {**valid_data("users", tenant, config, name="zoe"), "password": "", "role": role_of(tenant, "Supervisor").pk,
            **rows("skills", [{"skill": config["skills"].pk, "proficiency": "12"}], initial=1)}
    assert post(admin_client, "users", data, pk=user.pk).status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.role.name == "Supervisor"
    assert SkillAssignment.objects.get(agent__user=user).proficiency == 12


def test_an_administrator_cannot_deactivate_themself(admin_client, tenant, config, tenant_admin):
    data = {**valid_data("users", tenant, config, name="alice"), "password": "",
            "role": role_of(tenant, "Administrator").pk}
    data.pop("active")
    assert "your own account" in field_errors(post(admin_client, "users", data, pk=tenant_admin.pk), "active")


def test_an_administrator_cannot_change_their_own_role(admin_client, tenant, config, tenant_admin):
    data = {**valid_data("users", tenant, config, name="alice"), "password": "",
            "role": role_of(tenant, "Agent").pk}
    assert "your own role" in field_errors(post(admin_client, "users", data, pk=tenant_admin.pk), "role")
    tenant_admin.refresh_from_db()
    assert tenant_admin.role.name == "Administrator"


@pytest.mark.parametrize("look_alike", ["ｚｏｅ", "Ｚｏｅ", "ZOE", "zoe"])
def test_a_username_that_looks_like_a_taken_one_is_refused(admin_client, tenant, config, look_alike):
    """Full-width letters or another case make the same name on the sign-in page (NFKC, case-folded)."""
    from accounts.models import User

    response = post(admin_client, "users", {**valid_data("users", tenant, config), "username": look_alike})
    assert response.status_code == 400 and "already taken" in field_errors(response, "username")
    assert User.objects.filter(username_key="zoe").count() == 1
