"""The engine's comparing of a type, in Python: the primary's rows from its region, the copies and correlations
from the backup's. It must find all the work after every kind of change, on either tenant, for every registered
type (the continuity plan's sections included, with their links and children), whether it compares every record
or only those the change log names: both must find the same work. (Before the regions a third way, one query
inside PostgreSQL over both tenants, was checked here too; no query can join two databases.)"""

from datetime import date

import pytest

from accounts.models import User
from contactcenter.models import (
    AgentProfile,
    Disposition,
    HoursException,
    PointOfContact,
    Skill,
    SkillAssignment,
    Tag,
    Team,
)
from continuity.models import ActivationTrigger, CriticalSystem, EmergencyContact, PlanTeam, Procedure, ProcedureStep
from sync.engine import Engine
from sync.engine.registry import BY_KEY, ENTITIES
from sync.models import SyncRun
from tests.sync.conftest import BACKUP, run_sync


@pytest.fixture
def with_plan(configured):
    """Sections of the continuity plan too, linked to each other, with procedure steps (named apart from any
    starter plan the fixture may hold)."""
    tenant = configured
    crisis = PlanTeam.objects.create(tenant=tenant, name="Cmp Crisis Team", position=91, responsibilities="Decide")
    PlanTeam.objects.create(tenant=tenant, name="Cmp IT", position=92)
    CriticalSystem.objects.create(tenant=tenant, name="Cmp Telephony", position=91, responsible_team=crisis,
                                  failover="Second carrier")
    EmergencyContact.objects.create(tenant=tenant, name="Cmp Pat", position=91, team=crisis, phone="+1 555 0100",
                                    last_reviewed=date(2026, 1, 5))
    EmergencyContact.objects.create(tenant=tenant, name="Cmp Lee", position=92)
    outage = Procedure.objects.create(tenant=tenant, name="Cmp Site outage", position=91, description="Move sites")
    ProcedureStep.objects.create(tenant=tenant, procedure=outage, position=1, text="Call the team", team=crisis)
    ProcedureStep.objects.create(tenant=tenant, procedure=outage, position=2, text="Switch to BCP")
    ActivationTrigger.objects.create(tenant=tenant, name="Cmp Power loss", position=91, procedure=outage)
    return tenant


def _plans(mapping, *, full=False, driven=False) -> dict[str, tuple]:
    """What the comparer finds for every type: {type: (creates, updates, stale, doomed, children, source ids)};
    `driven`: comparing only what the change log names, as a run does once a type has correlations."""
    run = SyncRun.objects.create(mapping=mapping, trigger=SyncRun.Trigger.COMMAND, full=full)
    engine = Engine(run, entity_keys=[entity.key for entity in ENTITIES], full=full)
    if driven:
        engine.planner.read_changes(engine.entities)
    found = {}
    for entity in ENTITIES:
        plan = engine.planner.comparer_for(entity).compare(entity, engine.state.changes.get(entity.key))
        found[entity.key] = (sorted(plan.creates), dict(plan.updates), sorted(plan.stale), dict(plan.doomed),
                             {target: sorted(keys) for target, keys in plan.changed_children.items()},
                             plan.source_ids)
    SyncRun.objects.using(BACKUP).filter(pk=run.pk).delete()
    return found


def _assert_same(mapping, *, full=False) -> dict[str, tuple]:
    """The full comparison's plans, after checking that the change log leads to the same work for every type."""
    found = _plans(mapping, full=full)
    if not full:
        driven = _plans(mapping, driven=True)
        assert {key: plans[:5] for key, plans in driven.items()} == {key: plans[:5] for key, plans in found.items()}
    return found


def test_the_comparer_finds_everything_to_create_then_nothing(with_plan, mapping):
    before = _assert_same(mapping)
    assert all(found[0] for key, found in before.items() if key != "role")  # every record is to be created
    assert run_sync(with_plan).status == SyncRun.Status.SUCCEEDED
    after = _assert_same(mapping)
    assert all(found[:5] == ([], {}, [], {}, {}) for found in after.values()), after
    assert _assert_same(mapping, full=True)["procedure"][1]  # --full lists every pair


def _named(primary, key: str, ids) -> set[str]:
    """The primary's records of these ids (in its region, or the control plane for users), by name."""
    entity = BY_KEY[key]
    rows = entity.queryset(primary.pk).filter(pk__in=list(ids))
    return set(rows.values_list(entity.describe_field, flat=True))


def test_the_comparer_finds_the_changes_on_either_tenant(with_plan, mapping, bcp_tenant):
    primary = with_plan
    assert run_sync(primary).status == SyncRun.Status.SUCCEEDED
    # On the primary: a rename, a changed column, a child row changed, added and removed, a link cleared,
    # a new record and a deleted one.
    Team.objects.filter(tenant=primary, name="Sales").update(name="Sales EMEA")
    User.objects.filter(tenant=primary, username="sam").update(first_name="Samuel")
    andy = User.objects.get(tenant=primary, username="andy")
    SkillAssignment.objects.filter(tenant=primary, agent__user=andy, proficiency=5).update(proficiency=4)
    resolved = Disposition.objects.get(tenant=primary, name="Resolved")
    resolved.skills.remove(Skill.objects.get(tenant=primary, name="Web Chat"))
    outage = Procedure.objects.get(tenant=primary, name="Cmp Site outage")
    ProcedureStep.objects.create(tenant=primary, procedure=outage, position=3, text="Tell the customers")
    ActivationTrigger.objects.filter(tenant=primary, name="Cmp Power loss").update(procedure=None)
    Tag.objects.create(tenant=primary, name="New")
    Tag.objects.filter(tenant=primary, name="VIP").delete()
    # On the BCP tenant, to synced records: a link to a record made there, a child row changed and one added,
    # a copy deleted, a step's team link cleared, a link set where the primary has none.
    native = Skill.objects.create(tenant=bcp_tenant, name="Made on the BCP tenant")
    PointOfContact.objects.filter(tenant=bcp_tenant, name="Billing Line").update(skill=native)
    EmergencyContact.objects.filter(tenant=bcp_tenant, name="Cmp Lee").update(
        team=PlanTeam.objects.create(tenant=bcp_tenant, name="Made on the BCP tenant"))
    HoursException.objects.filter(tenant=bcp_tenant, hours__name="Business Hours").update(name="Boxing Day")
    sam = User.objects.get(tenant=bcp_tenant, username="sam")
    AgentProfile.objects.filter(tenant=bcp_tenant, user=sam).update(active=False)
    alice = AgentProfile.objects.get(tenant=bcp_tenant, user=User.objects.get(tenant=bcp_tenant, username="alice"))
    SkillAssignment.objects.create(tenant=bcp_tenant, agent=alice, skill=native, proficiency=3)
    CriticalSystem.objects.filter(tenant=bcp_tenant, name="Cmp Telephony").delete()
    ProcedureStep.objects.filter(tenant=bcp_tenant, procedure__name="Cmp Site outage", position=1).update(team=None)

    found = _assert_same(mapping)
    creates, updates, stale, doomed, _children, _ids = found["tag"]
    assert _named(primary, "tag", creates) == {"New"} and not updates and len(doomed) == 1
    assert _named(primary, "team", found["team"][1]) == {"Sales EMEA"}
    assert _named(primary, "point_of_contact", found["point_of_contact"][1]) == {"Billing Line"}
    assert _named(primary, "critical_system", found["critical_system"][0]) == {"Cmp Telephony"}
    assert found["critical_system"][2] == found["critical_system"][0]
    assert _named(primary, "emergency_contact", found["emergency_contact"][1]) == {"Cmp Lee"}
    assert "Cmp Power loss" in _named(primary, "activation_trigger", found["activation_trigger"][1])
    assert _named(primary, "disposition", found["disposition"][1]) == {"Resolved"}
    assert _named(primary, "hours", found["hours"][1]) == {"Business Hours"}
    # Which children each update rewrites; sam's profile changed on the BCP tenant, and rewriting it rewrites
    # the assignments after it too.
    users = {source: BY_KEY["user"].describe(values) for source, values in BY_KEY["user"].read(primary.pk).items()}
    rewritten = {users[source]: found["user"][4][target] for source, target in found["user"][1].items()}
    assert rewritten == {"alice": ["assignments"], "andy": ["assignments"], "sam": ["assignments", "profile"]}
    procedures = {BY_KEY["procedure"].describe(BY_KEY["procedure"].read(primary.pk, [source])[source]):
                  found["procedure"][4][target] for source, target in found["procedure"][1].items()}
    assert procedures["Cmp Site outage"] == ["steps"]

    run = run_sync(primary)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert all(found[:5] == ([], {}, [], {}, {}) for found in _assert_same(mapping).values())
    assert not SkillAssignment.objects.filter(tenant=bcp_tenant, skill=native).exists()
    assert PointOfContact.objects.get(tenant=bcp_tenant, name="Billing Line").skill.name == "Billing Inquiries"
    assert EmergencyContact.objects.get(tenant=bcp_tenant, name="Cmp Lee").team is None
    second = run_sync(primary)
    assert second.totals["created"] == second.totals["updated"] == second.totals["deleted"] == 0
