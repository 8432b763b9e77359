"""The change log: database triggers log every write of a synced table, however it was made (a service, a bulk
QuerySet.update(), raw SQL), as a change of the top-level record, in the database of the write."""

import pytest
from django.db import connections

from accounts.models import User
from accounts.roles import AGENT
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS
from contactcenter import services as cc
from contactcenter.models import Disposition, HoursDay, SkillAssignment, Team
from continuity.models import ProcedureStep
from sync.engine import capture
from sync.models import Change
from sync.selectors import tenants_with_changes
from tests.factories import role_of

REGION = "na"  # the primary's (tenant's) region in these tests


def _logged(alias: str, tenant) -> set[tuple[str, int]]:
    return set(Change.objects.using(alias).filter(tenant_id=tenant.pk).values_list("entity_type", "record_id"))


def _clear(*aliases):
    for alias in aliases:
        Change.objects.using(alias).all().delete()


@pytest.mark.django_db(databases="__all__")
def test_every_registered_table_has_its_triggers_in_its_database():
    for alias in connections:
        assert capture.missing(alias) == [], alias
    assert {item.model._meta.db_table for item in capture.tables_on(REGION)} >= {
        "contactcenter_team", "contactcenter_skillassignment", "contactcenter_disposition_skills",
        "continuity_procedurestep"}
    assert {item.model._meta.db_table for item in capture.tables_on("default")} >= {"accounts_user", "accounts_role"}


@pytest.mark.django_db(databases="__all__")
def test_writes_of_every_kind_are_logged_as_their_top_level_record(configured):
    tenant = configured
    _clear(REGION, "default")
    team = Team.objects.get(tenant=tenant, name="Sales")
    Team.objects.filter(pk=team.pk).update(description="Bulk")  # QuerySet.update(): no signal
    assert _logged(REGION, tenant) == {("team", team.pk)}
    assert tenant.pk in tenants_with_changes(REGION)

    _clear(REGION)
    day = HoursDay.objects.filter(tenant=tenant).select_related("hours").first()
    with connections[REGION].cursor() as cursor:  # raw SQL by an operator, on a child row
        cursor.execute("UPDATE contactcenter_hoursday SET closed = NOT closed WHERE id = %s", [day.pk])
    assert _logged(REGION, tenant) == {("hours", day.hours_id)}

    _clear(REGION)
    andy = User.objects.get(tenant=tenant, username="andy")
    SkillAssignment.objects.filter(tenant=tenant, agent__user=andy).update(proficiency=2)  # through the profile
    disposition = Disposition.objects.get(tenant=tenant, name="Resolved")
    disposition.skills.clear()  # a many-to-many row: no tenant column, the disposition's
    step = ProcedureStep.objects.filter(tenant=tenant).first()
    ProcedureStep.objects.filter(pk=step.pk).delete()
    assert _logged(REGION, tenant) == {("user", andy.pk), ("disposition", disposition.pk),
                                       ("procedure", step.procedure_id)}

    _clear("default")
    role = role_of(tenant, AGENT)
    User.objects.filter(pk=andy.pk).update(first_name="Andrew")
    role_set_permissions(role=role, permissions=[CHANGE_BCP_CONFIGURATIONS], scope=[CHANGE_BCP_CONFIGURATIONS],
                         actor=Actor.system())  # a guardian row of the role's group
    logged = _logged("default", tenant)
    assert {("user", andy.pk), ("role", role.pk)} <= logged


@pytest.mark.django_db(databases="__all__")
def test_a_record_changed_again_gets_a_new_row_and_one_row_per_record(configured):
    tenant = configured
    _clear(REGION)
    team = cc.team_create(tenant=tenant, name="Night", actor=Actor.system())
    first = Change.objects.using(REGION).get(tenant_id=tenant.pk, record_id=team.pk, entity_type="team").pk
    Team.objects.filter(pk=team.pk).update(description="Again")
    rows = Change.objects.using(REGION).filter(tenant_id=tenant.pk, record_id=team.pk, entity_type="team")
    assert rows.count() == 1 and rows.get().pk != first


@pytest.mark.django_db(databases="__all__")
def test_an_update_that_changes_nothing_logs_nothing(configured):
    """A form saved unchanged (an agent's profile saved with their name) costs the next run nothing: PostgreSQL's
    trigger compares the row before and after, all but updated_at, which the sync does not copy. A real change is
    logged as before."""
    if connections[REGION].vendor != "postgresql":
        pytest.skip("the comparison is PostgreSQL's trigger condition (CI runs PostgreSQL)")
    tenant = configured
    team = Team.objects.get(tenant=tenant, name="Sales")
    _clear(REGION)
    Team.objects.filter(pk=team.pk).update(description=team.description)
    team.save()
    assert not Change.objects.using(REGION).filter(tenant_id=tenant.pk, entity_type="team").exists()
    Team.objects.filter(pk=team.pk).update(description="Inbound")
    assert set(Change.objects.using(REGION).filter(tenant_id=tenant.pk, entity_type="team")
               .values_list("record_id", flat=True)) == {team.pk}


@pytest.mark.django_db(databases="__all__")
def test_bulk_and_raw_sql_changes_reach_the_backup_and_the_log_is_emptied(configured, bcp_tenant):
    from contactcenter.models import Skill, Tag
    from sync.models import SyncRun
    from tests.sync.conftest import run_sync

    tenant = configured
    assert run_sync(tenant).status == SyncRun.Status.SUCCEEDED
    assert not Change.objects.using("eu").filter(tenant_id=bcp_tenant.pk).exists()  # the run's own writes
    Team.objects.filter(tenant=tenant, name="Sales").update(description="Changed in bulk")
    chat = Skill.objects.get(tenant=tenant, name="Web Chat")
    copy = Tag.objects.get(tenant=bcp_tenant, name="VIP")
    with connections[REGION].cursor() as cursor:
        cursor.execute("UPDATE contactcenter_skill SET description = %s WHERE id = %s", ["Changed in SQL", chat.pk])
    with connections["eu"].cursor() as cursor:  # an operator edits a copy on the BCP tenant
        cursor.execute("UPDATE contactcenter_tag SET description = %s WHERE id = %s", ["Edited on the copy", copy.pk])

    run = run_sync(tenant)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.totals["updated"] == 3
    assert Team.objects.get(tenant=bcp_tenant, name="Sales").description == "Changed in bulk"
    assert Skill.objects.get(tenant=bcp_tenant, name="Web Chat").description == "Changed in SQL"
    assert Tag.objects.get(tenant=bcp_tenant, name="VIP").description == "Important customer"
    for alias in (REGION, "eu", "default"):
        assert not Change.objects.using(alias).filter(tenant_id__in=[tenant.pk, bcp_tenant.pk]).exists(), alias
    again = run_sync(tenant)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert sum(counts["total"] for counts in again.counts.values()) == 0  # nothing changed, nothing read


@pytest.mark.django_db(databases="__all__")
def test_a_change_whose_log_entry_was_lost_is_found_by_the_digests(configured, bcp_tenant, settings):
    from contactcenter.models import HoursException
    from sync.models import Correlation, SyncRun
    from tests.sync.conftest import run_sync

    tenant = configured
    assert run_sync(tenant).status == SyncRun.Status.SUCCEEDED  # a first sync compares everything
    assert not Correlation.objects.using("eu").filter(digest__isnull=True).exists()
    Team.objects.filter(tenant=tenant, name="Sales").update(description="Lost entry")
    HoursException.objects.filter(tenant=tenant).update(name="Lost child entry")
    Change.objects.using(REGION).filter(tenant_id=tenant.pk).delete()  # by hand: the log says nothing

    # Within SYNC_DIGEST_EVERY of a full check, a run reads the log only: it finds nothing.
    quiet = run_sync(tenant)
    assert quiet.status == SyncRun.Status.SUCCEEDED and not quiet.checked
    assert Team.objects.get(tenant=bcp_tenant, name="Sales").description == ""

    settings.SYNC_DIGEST_EVERY = 0  # the digests are due
    run = run_sync(tenant)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.checked and run.totals["updated"] == 2
    assert Team.objects.get(tenant=bcp_tenant, name="Sales").description == "Lost entry"
    assert HoursException.objects.get(tenant=bcp_tenant).name == "Lost child entry"
    again = run_sync(tenant)  # digests due again, and nothing differs
    assert again.checked and again.totals["updated"] == again.totals["created"] == 0


@pytest.mark.django_db(databases="__all__")
def test_a_run_stopped_after_its_commit_leaves_the_log_and_the_next_run_writes_nothing_again(
        configured, bcp_tenant, settings, monkeypatch):
    from django.utils import timezone

    from sync.engine import SyncCrash
    from sync.models import SyncRun
    from sync.services import STALE_AFTER, sync_run_execute, sync_run_request
    from tests.sync.conftest import BACKUP, run_sync

    tenant = configured
    assert run_sync(tenant).status == SyncRun.Status.SUCCEEDED
    Team.objects.filter(tenant=tenant, name="Sales").update(description="Before the crash")
    settings.SYNC_FAILPOINTS = True
    monkeypatch.setenv("BCP_SYNC_RAISE_AT", "after:commit")
    run = sync_run_request(tenant=tenant, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    with pytest.raises(SyncCrash):
        sync_run_execute(run_id=run.pk)
    monkeypatch.delenv("BCP_SYNC_RAISE_AT")
    assert Team.objects.get(tenant=bcp_tenant, name="Sales").description == "Before the crash"  # committed
    assert _logged(REGION, tenant) == {("team", Team.objects.get(tenant=tenant, name="Sales").pk)}  # still there

    SyncRun.objects.using(BACKUP).filter(pk=run.pk).update(heartbeat_at=timezone.now() - STALE_AFTER * 2)
    sync_run_execute(run_id=run.pk)  # taken over: the same record compared again, equal now
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.totals["updated"] == 0 and run.totals["unchanged"] == 1
    assert _logged(REGION, tenant) == set()
