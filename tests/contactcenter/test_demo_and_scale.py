"""seed_demo's contact-center configuration for Classics Inc., and the seed_scale generator."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Count

from accounts.models import User
from contactcenter import demo
from contactcenter.models import (
    PROFICIENCY_MAX,
    PROFICIENCY_MIN,
    AgentProfile,
    Channel,
    Deletion,
    Direction,
    Disposition,
    HoursDay,
    HoursException,
    HoursOfOperation,
    PointOfContact,
    Skill,
    SkillAssignment,
    Tag,
    Team,
    UnavailableCode,
    validate_address,
)
from contactcenter.scale import Plan, generate, scale_tenant_create
from tenants.models import Tenant
from tests.auditlog import audit_events

DEMO_PASSWORD = "demo-password-for-tests"
TYPES = [Team, Skill, HoursOfOperation, HoursDay, HoursException, PointOfContact, Disposition, UnavailableCode, Tag,
         User, AgentProfile, SkillAssignment]


def _everywhere(model) -> list:
    """The model's rows in every database it lives in (the control plane, or each region's)."""
    aliases = ["default"] if model is User else settings.REGION_DATABASES
    return [model.objects.using(alias) for alias in aliases]


def snapshot() -> dict:
    """Every row of the configuration, with its update time: equal snapshots mean nothing changed."""
    rows = {model.__name__: sorted((qs.db, pk) for qs in _everywhere(model) for pk in qs.values_list("pk", flat=True))
            for model in TYPES}
    rows["updated"] = sorted(str(v) for qs in _everywhere(AgentProfile)
                             for v in qs.values_list("updated_at", flat=True))
    rows["passwords"] = sorted(User.objects.values_list("password", flat=True))
    rows["audit"] = audit_events().count()
    return rows


def assert_consistent(tenant) -> None:
    """What the services would insist on, checked over every row the generator wrote."""
    for poc in PointOfContact.objects.filter(tenant=tenant).select_related("skill"):
        assert poc.skill.channel == poc.channel, poc
        validate_address(poc.channel, poc.address)
        assert poc.skill.tenant_id == tenant.pk and poc.hours.tenant_id == tenant.pk
    assert not SkillAssignment.objects.filter(tenant=tenant).exclude(
        proficiency__gte=PROFICIENCY_MIN, proficiency__lte=PROFICIENCY_MAX).exists()
    assert not SkillAssignment.objects.filter(tenant=tenant).exclude(skill__tenant=tenant).exists()
    users = dict(User.objects.filter(tenant=tenant).values_list("pk", "is_active"))
    for user_id, active in AgentProfile.objects.filter(tenant=tenant).values_list("user_id", "active"):
        assert users.get(user_id) == active, user_id  # a user of this tenant, active as the agent side says
    for hours in HoursOfOperation.objects.filter(tenant=tenant).annotate(n=Count("days")):
        assert hours.n == 7, hours
    users = User.objects.filter(tenant=tenant)
    assert users.filter(role__isnull=True).count() == 0
    assert not users.exclude(role__tenant=tenant).exists()


@pytest.fixture
def seeded(db):
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    return Tenant.objects.get(name="Classics Inc.")


# --- the demo -------------------------------------------------------------------------------------

def test_the_demo_fills_classics_inc_with_a_believable_configuration(seeded):
    tenant = seeded
    counts = demo.counts(tenant)
    assert counts["teams"] == 5
    assert counts["skills"] == 13
    assert counts["hours of operation"] == 3
    assert counts["points of contact"] == 11
    assert counts["dispositions"] == 12
    assert counts["unavailable codes"] == 7
    assert counts["tags"] == 10
    assert counts["users"] >= 49  # the four named people and 45 generated ones
    assert counts["agent profiles"] == counts["users"]

    skills = Skill.objects.filter(tenant=tenant)
    assert set(skills.values_list("channel", flat=True)) == set(Channel.values)
    assert set(skills.values_list("direction", flat=True)) == set(Direction.values)
    assert set(PointOfContact.objects.filter(tenant=tenant).values_list("channel", flat=True)) >= {
        Channel.PHONE, Channel.EMAIL, Channel.CHAT}
    assert HoursException.objects.filter(tenant=tenant, name="Christmas Day").exists()
    assert list(UnavailableCode.objects.filter(tenant=tenant, after_contact_work=True)
                .values_list("name", flat=True)) == ["After-Contact Work (ACW)"]
    assert {"Break", "Lunch", "Meeting", "Training"} <= set(
        UnavailableCode.objects.filter(tenant=tenant).values_list("name", flat=True))
    assert not Disposition.objects.filter(tenant=tenant, skills__isnull=True).exists()
    assert Disposition.objects.filter(tenant=tenant).values("classification").distinct().count() == 4
    # Every team has a supervisor and members with skills.
    for team in Team.objects.filter(tenant=tenant):
        members = team.members.all()
        supervisors = set(User.objects.filter(tenant=tenant, role__name="Supervisor").values_list("pk", flat=True))
        assert any(member.user_id in supervisors for member in members), team
        assert members.count() >= 8, team
    assert SkillAssignment.objects.filter(tenant=tenant).count() >= 100
    assert_consistent(tenant)


def test_the_named_demo_people_have_an_agent_side(seeded):
    agent = User.objects.get(tenant=seeded, username="agent")
    assert agent.agent_profile.team.name == "Customer Care"
    assert agent.agent_profile.assignments.count() == 3
    assert agent.check_password(DEMO_PASSWORD)  # unchanged by the contact-center seed
    for username in ("agent2", "supervisor", "admin"):
        person = User.objects.get(tenant=seeded, username=username)
        assert AgentProfile.objects.filter(tenant=seeded, user=person).exists()


def test_generated_people_sign_in_with_the_demo_password(seeded):
    olivia = User.objects.get(tenant=seeded, username="olivia.anderson")
    assert olivia.check_password(DEMO_PASSWORD)
    assert olivia.role.name == "Supervisor"
    assert User.objects.filter(tenant=seeded, is_active=False).count() == 2


def test_running_the_demo_twice_changes_nothing(seeded):
    before = snapshot()
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    assert snapshot() == before
    assert not any(qs.exists() for qs in _everywhere(Deletion))


def test_the_other_tenants_get_no_demo_configuration(seeded):
    other = Tenant.objects.get(name="Northwind Support")
    assert not Skill.objects.filter(tenant=other).exists()
    assert not AgentProfile.objects.filter(tenant=other).exists()


# --- the scale generator --------------------------------------------------------------------------

def test_the_plan_aims_at_the_number_of_records():
    for records in (500, 10_000, 100_000):
        plan = Plan.for_records(records)
        assert abs(plan.row_count() - records) <= records * 0.02 + 10
        assert plan.users * 2 > plan.row_count() * 0.4  # users (sign-in and agent side) are the biggest share


def test_the_generator_writes_about_n_valid_rows_of_every_type(db):
    tenant = scale_tenant_create(name="Scale test")
    counts = generate(tenant=tenant, plan=Plan.for_records(500))
    assert abs(sum(counts.values()) - 500) <= 20
    assert all(count > 0 for count in counts.values()), counts
    assert counts["users"] == counts["agent profiles"] == User.objects.filter(tenant=tenant).count()
    assert counts["users"] == max(counts.values()) or counts["skill assignments"] == max(counts.values())
    assert tenant.region.code == "na"
    assert set(tenant.roles.values_list("name", flat=True)) >= {"Administrator", "Supervisor", "Agent"}
    assert_consistent(tenant)
    # An unusable password unless one is given.
    assert not User.objects.filter(tenant=tenant).first().has_usable_password()
    assert set(Skill.objects.filter(tenant=tenant).values_list("channel", flat=True)) == set(Channel.values)
    assert audit_events().filter(action="contactcenter.scale_generate", tenant=tenant).count() == 1


def test_the_command_reports_what_it_created(db):
    out = StringIO()
    call_command("seed_scale", records=500, tenant_name="Scale command", password="shared-secret-1", stdout=out)
    text = out.getvalue()
    for kind in ("teams", "skills", "users", "agent profiles", "skill assignments", "points of contact",
                 "hours of operation", "dispositions", "unavailable codes", "tags", "total"):
        assert kind in text, kind
    tenant = Tenant.objects.get(name="Scale command")
    assert User.objects.filter(tenant=tenant).first().check_password("shared-secret-1")
    # A second tenant with the same name is refused with the service's message.
    with pytest.raises(CommandError, match="already exists"):
        call_command("seed_scale", records=100, tenant_name="Scale command", stdout=StringIO())


def test_two_generated_tenants_do_not_collide(db):
    call_command("seed_scale", records=200, stdout=StringIO(), tenant_name="One")
    call_command("seed_scale", records=200, stdout=StringIO(), tenant_name="Two")
    one, two = Tenant.objects.get(name="One"), Tenant.objects.get(name="Two")
    assert User.objects.filter(tenant=one).count() == User.objects.filter(tenant=two).count() > 1
    # A username names one person on the platform: each tenant's generated users have their own prefix.
    assert not set(User.objects.filter(tenant=one).values_list("username", flat=True)) & set(
        User.objects.filter(tenant=two).values_list("username", flat=True))


def test_with_bcp_maps_a_bcp_tenant_and_prints_the_passkey_once(db):
    from tenants.bcp.services import passkey_matches
    from tenants.models import BcpMapping

    out = StringIO()
    call_command("seed_scale", records=100, stdout=out, tenant_name="Big", with_bcp=True)
    mapping = BcpMapping.objects.get(primary__name="Big")
    assert mapping.secondary.name == "Big BCP" and mapping.secondary.region.code == "eu"
    passkey = out.getvalue().split("Passkey (shown only now; keep it to switch): ")[1].split()[0]
    assert passkey_matches(mapping, passkey)
