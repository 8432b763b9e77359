"""The engine, in this process, against the test database: what the BCP tenant holds after a run."""

import pytest

from accounts.models import Role, User
from contactcenter.models import AgentProfile, Disposition, HoursOfOperation, PointOfContact, Skill, Tag, Team
from sync.engine.registry import ALL_KEYS, BY_KEY
from sync.models import Correlation, SyncRun
from tests.queries import CaptureQueriesEverywhere
from tests.sync.conftest import run_sync


def names(model, tenant, field="name"):
    return sorted(model.objects.filter(tenant=tenant).values_list(field, flat=True))


def test_a_first_run_copies_every_type_with_new_ids(configured, bcp_tenant, mapping):
    run = run_sync(configured)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    for model in (Team, Skill, HoursOfOperation, PointOfContact, Disposition, Tag):
        assert names(model, bcp_tenant) == names(model, configured)
    assert names(User, bcp_tenant, "username") == ["alice", "andy", "sam"]
    # Each copy is a row of the backup's region, linked to its primary record by a correlation kept there too.
    source = dict(Skill.objects.filter(tenant=configured).values_list("pk", "name"))
    target = dict(Skill.objects.filter(tenant=bcp_tenant).values_list("pk", "name"))
    links = dict(Correlation.objects.filter(mapping=mapping, entity_type="skill").values_list("source_id", "target_id"))
    assert {source[pk]: target[links[pk]] for pk in source} == {name: name for name in source.values()}
    assert Skill.objects.filter(tenant=bcp_tenant).db == "eu" and Skill.objects.filter(tenant=configured).db == "na"
    assert run.counts["skill"]["created"] == 2
    assert set(run.counts) == set(ALL_KEYS)


def test_links_point_at_the_copies_on_the_bcp_tenant(configured, bcp_tenant, mapping):
    run_sync(configured)
    line = PointOfContact.objects.get(tenant=bcp_tenant, name="Billing Line")
    assert line.skill.tenant_id == bcp_tenant.pk and line.skill.name == "Billing Inquiries"
    assert line.hours.tenant_id == bcp_tenant.pk and line.hours.name == "Business Hours"
    copy = User.objects.get(tenant=bcp_tenant, username="andy")
    assert copy.is_bcp_copy and copy.role.tenant_id == bcp_tenant.pk and copy.role.name == "Agent"
    profile = AgentProfile.objects.get(tenant=bcp_tenant, user=copy)
    assert profile.team.tenant_id == bcp_tenant.pk and profile.team.name == "Billing Support"
    assert sorted((a.skill.name, a.skill.tenant_id, a.proficiency) for a in profile.assignments.all()) == [
        ("Billing Inquiries", bcp_tenant.pk, 1), ("Web Chat", bcp_tenant.pk, 5)]
    resolved = Disposition.objects.get(tenant=bcp_tenant, name="Resolved")
    assert sorted(s.tenant_id for s in resolved.skills.all()) == [bcp_tenant.pk, bcp_tenant.pk]
    hours = HoursOfOperation.objects.get(tenant=bcp_tenant, name="Business Hours")
    assert hours.days.count() == 7 and [e.name for e in hours.exceptions.all()] == ["Christmas Day"]
    source = PointOfContact.objects.get(tenant=configured, name="Billing Line")
    correlation = Correlation.objects.get(mapping=mapping, entity_type="point_of_contact", source_id=source.pk)
    assert correlation.target_id == line.pk


def test_users_keep_their_password_hash_and_never_get_staff_flags(configured, bcp_tenant):
    source = User.objects.get(tenant=configured, username="alice")
    User.objects.filter(pk=source.pk).update(is_staff=True)
    run_sync(configured)
    copy = User.objects.get(tenant=bcp_tenant, username="alice")
    assert copy.password == source.password
    assert not copy.is_staff and not copy.is_superuser
    assert (copy.first_name, copy.last_name, copy.email) == ("Alice", "Admin", "alice@classics.example.com")


def test_roles_are_adopted_by_name_with_their_permissions(configured, bcp_tenant):
    bcp_admin_role = Role.objects.get(tenant=bcp_tenant, name="Administrator")
    run_sync(configured)
    assert Role.objects.filter(tenant=bcp_tenant).count() == 3
    bcp_admin_role.refresh_from_db()
    from accounts.services import role_permissions

    primary_role = Role.objects.get(tenant=configured, name="Administrator")
    assert role_permissions(role=bcp_admin_role) == role_permissions(role=primary_role)
    assert "change_bcp_enablement" in role_permissions(role=bcp_admin_role)


def test_a_second_run_writes_nothing(configured, bcp_tenant):
    run_sync(configured)
    with CaptureQueriesEverywhere() as queries:
        run = run_sync(configured)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.totals["created"] == run.totals["updated"] == run.totals["deleted"] == 0
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
              and "sync_" not in q["sql"].split("(")[0] and "audit_" not in q["sql"].split("(")[0]]
    assert writes == []


def test_the_content_hashes_are_kept_per_record(configured, mapping):
    run_sync(configured)
    assert Correlation.objects.filter(mapping=mapping).count() == sum(
        BY_KEY[key].model.objects.filter(tenant=configured).count() for key in ALL_KEYS)
    assert not Correlation.objects.filter(mapping=mapping, content_hash="").exists()


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_type_is_counted(configured, key):
    run = run_sync(configured)
    counts = run.counts[key]
    # The BCP tenant's default roles are adopted (updated), everything else is created.
    written = counts["updated"] if key == "role" else counts["created"]
    assert counts["total"] == written > 0 == counts["failed"]


def test_the_demo_maps_classics_with_a_daily_sync_and_one_run_done(db):
    from io import StringIO

    from django.core.management import call_command

    from sync.demo import DEMO_PASSKEY
    from sync.models import SyncConfiguration
    from tenants.bcp.services import passkey_matches
    from tenants.models import BcpMapping

    out = StringIO()
    call_command("seed_demo", stdout=out)
    configuration = SyncConfiguration.objects.get(mapping__primary__name="Classics Inc.")
    assert configuration.enabled and configuration.frequency == "daily"
    assert configuration.mapping.secondary.name == "Classics Inc. BCP"
    assert passkey_matches(configuration.mapping, DEMO_PASSKEY) and DEMO_PASSKEY in out.getvalue()
    run = SyncRun.objects.get(mapping=configuration.mapping)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert User.objects.filter(tenant=configuration.mapping.secondary, username="agent", is_bcp_copy=True).exists()
    call_command("seed_demo", stdout=StringIO())
    assert SyncRun.objects.filter(mapping=configuration.mapping).count() == 1
    # Ready to switch on BC Enablement: every readiness check is green.
    from enablement.selectors import readiness

    state = readiness(mapping=BcpMapping.objects.get(pk=configuration.mapping_id))
    assert state.all_ok, [check.text for check in state.checks if not check.ok]
