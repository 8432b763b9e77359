"""One entry of every configuration type in the persona tenant, and valid form input for each type."""

from datetime import time

import pytest

from audit.services import Actor
from contactcenter import services
from contactcenter.registry import REGISTRY
from tests.factories import role_of

SLUGS = [spec.slug for spec in REGISTRY.types]
KEYS = {spec.slug: spec.key for spec in REGISTRY.types}  # slug -> the key its URL names start with: "user_list"
NEW_PASSWORD = "violet-harbour-lantern-42"


@pytest.fixture
def config(tenant):
    """{slug: object} with one of each type, wired together: the point of contact routes to the skill."""
    skill = services.skill_create(tenant=tenant, name="Billing", channel="phone", actor=Actor.system())
    hours = services.hours_create(tenant=tenant, name="Office hours", timezone="America/New_York", actor=Actor.system())
    poc = services.point_of_contact_create(tenant=tenant, name="Main line", channel="phone", address="+14155550100",
                                           skill=skill, hours=hours, actor=Actor.system())
    team = services.team_create(tenant=tenant, name="Blue", actor=Actor.system())
    user = services.agent_create(tenant=tenant, username="zoe", password=NEW_PASSWORD, role=role_of(tenant, "Agent"),
                                 team=team, skills={skill: 4}, actor=Actor.system())
    return {
        "users": user,
        "teams": team,
        "skills": skill,
        "hours": hours,
        "points-of-contact": poc,
        "dispositions": services.disposition_create(tenant=tenant, name="Solved", skills=[skill], actor=Actor.system()),
        "unavailable-codes": services.unavailable_code_create(tenant=tenant, name="Lunch", actor=Actor.system()),
        "tags": services.tag_create(tenant=tenant, name="VIP", actor=Actor.system()),
    }


def rows(prefix: str, items: list[dict], initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(items)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for index, item in enumerate(items):
        for key, value in item.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def week_data(opens: time = time(8), closes: time = time(18)) -> dict:
    data = {}
    for day in range(7):
        if day >= 5:
            data[f"day{day}_closed"] = "on"
        else:
            data[f"day{day}_opens_at"] = opens.strftime("%H:%M")
            data[f"day{day}_closes_at"] = closes.strftime("%H:%M")
    return data


def valid_data(slug: str, tenant, config: dict, name: str = "Fresh") -> dict:
    """Input that the type's create (and edit) form accepts."""
    skill, hours = config["skills"], config["hours"]
    if slug == "users":
        return {"username": name.lower(), "password": NEW_PASSWORD, "first_name": "Fay", "last_name": "Ray",
                "email": "fay@example.com", "role": role_of(tenant, "Agent").pk, "team": config["teams"].pk,
                "active": "on", **rows("skills", [{"skill": skill.pk, "proficiency": "7"}])}
    if slug == "skills":
        return {"name": name, "channel": "phone", "direction": "inbound", "description": ""}
    if slug == "hours":
        return {"name": name, "timezone": "Europe/Berlin", "description": "", **week_data(),
                **rows("exceptions", [{"date": "2026-12-25", "name": "Christmas Day", "closed": "on"}])}
    if slug == "points-of-contact":
        return {"name": name, "channel": "phone", "address": "+14155550199", "skill": skill.pk, "hours": hours.pk}
    if slug == "dispositions":
        return {"name": name, "classification": "follow_up", "skills": [skill.pk]}
    if slug == "unavailable-codes":
        return {"name": name, "after_contact_work": "on"}
    return {"name": name, "description": "Something"}  # teams, tags
