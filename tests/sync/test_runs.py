"""Runs as a whole: crashes and retries, reconciliation, pausing, custom selections, who is told."""

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from audit.services import Actor
from contactcenter import services as cc
from contactcenter.models import Tag
from sync.engine import failpoints as engine
from sync.engine.registry import ALL_KEYS, BY_KEY
from sync.models import Correlation, SyncRun
from sync.services import STALE_AFTER, SyncError, sync_run_execute, sync_run_request, sync_settings_save
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.sync.conftest import BACKUP, run_sync

# Between types, inside each type's first chunk (roles are all adopted by name on a new BCP tenant: updates), and
# before the reconciliation.
FAILPOINTS = ([f"after:{key}" for key in ALL_KEYS] + [f"in:{key}:create" for key in ALL_KEYS if key != "role"]
              + ["in:role:update", "before:reconcile"])


def assert_complete_copy(mapping):
    """Every primary record has exactly one copy and one correlation, and no correlation points at nothing."""
    for key in ALL_KEYS:
        entity = BY_KEY[key]
        sources = set(entity.model.objects.filter(tenant_id=mapping.primary_id).values_list("pk", flat=True))
        correlations = dict(Correlation.objects.filter(mapping=mapping, entity_type=key)
                            .values_list("source_id", "target_id"))
        assert set(correlations) == sources, key
        targets = set(entity.model.objects.filter(tenant_id=mapping.secondary_id).values_list("pk", flat=True))
        assert set(correlations.values()) <= targets, key
        assert len(set(correlations.values())) == len(correlations), key


@pytest.mark.parametrize("point", FAILPOINTS)
def test_a_run_stopped_anywhere_leaves_the_backup_as_it_was_and_the_next_completes_it(configured, mapping, settings,
                                                                                     monkeypatch, point):
    """All or nothing: the run's writes are one transaction on the backup's region (and one on the control plane),
    so a run stopped anywhere before its commit leaves the backup exactly as the last complete run left it (here:
    empty); the run taken over makes the whole copy. (Before the regions, each chunk committed and the next run
    resumed from the last whole chunk.)"""
    settings.SYNC_FAILPOINTS = True
    monkeypatch.setenv("BCP_SYNC_RAISE_AT", point)
    run = sync_run_request(tenant=configured, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    with pytest.raises(engine.SyncCrash):
        sync_run_execute(run_id=run.pk)
    monkeypatch.delenv("BCP_SYNC_RAISE_AT")
    assert not Correlation.objects.filter(mapping=mapping).exists()
    assert not User.objects.filter(tenant_id=mapping.secondary_id, is_bcp_copy=True).exists()
    assert not Tag.objects.filter(tenant_id=mapping.secondary_id).exists()
    # The lost worker's run is taken over once its heartbeat is old, as the dispatcher's retry does.
    SyncRun.objects.using(BACKUP).filter(pk=run.pk).update(heartbeat_at=timezone.now() - STALE_AFTER * 2)
    sync_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.attempts == 2
    assert_complete_copy(mapping)
    assert run_sync(configured).totals["created"] == 0


def test_a_running_run_is_not_taken_by_a_second_worker(configured, mapping):
    run = sync_run_request(tenant=configured, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    SyncRun.objects.using(BACKUP).filter(pk=run.pk).update(status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now())
    assert sync_run_execute(run_id=run.pk) is None
    assert not Correlation.objects.filter(mapping=mapping).exists()


def test_a_second_run_for_the_mapping_is_refused_while_one_is_queued(configured, sync_enabled):
    sync_run_request(tenant=configured, actor=Actor.system(), enqueue=False)
    with pytest.raises(SyncError, match="already waiting to start"):  # queued, not running yet
        sync_run_request(tenant=configured, actor=Actor.system(), enqueue=False)


def test_reconciliation_catches_a_bcp_record_changed_during_the_run(configured, bcp_tenant, monkeypatch):
    def tamper(name):
        if name == "before:reconcile":
            Tag.objects.filter(tenant=bcp_tenant, name="VIP").update(description="tampered")

    monkeypatch.setattr(engine, "failpoint", tamper)
    run = run_sync(configured)
    assert run.status == SyncRun.Status.FAILED
    from sync.messages import error_text

    assert [error_text(e) for e in run.errors] == [
        "Reconciliation: 1 Tags record differs on the BCP tenant from the primary: VIP."]


def test_runs_are_skipped_with_the_reason_while_the_bcp_tenant_is_active(configured, mapping, sync_enabled):
    run = sync_run_request(tenant=configured, actor=Actor.system(), enqueue=False)
    BcpMapping.objects.filter(pk=mapping.pk).update(active_side=BcpMapping.Side.SECONDARY)
    sync_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SKIPPED and run.skip_reason == "bcp_active"
    assert not Correlation.objects.filter(mapping=mapping).exists()
    with pytest.raises(SyncError, match="paused"):
        sync_run_request(tenant=configured, actor=Actor.system(), enqueue=False)


def test_a_custom_selection_copies_only_what_it_names(configured, bcp_tenant, sync_enabled):
    sync_settings_save(configuration=sync_enabled, frequency="daily", custom=True, entity_types=["tag", "skill"],
                       actor=Actor.system())
    run = run_sync(configured)
    assert set(run.counts) == {"skill", "tag"}
    assert Tag.objects.filter(tenant=bcp_tenant).count() == 1
    assert not User.objects.filter(tenant=bcp_tenant).exists()


def test_a_selection_that_breaks_a_dependency_is_explained_and_refused(sync_enabled):
    with pytest.raises(SyncError) as error:
        sync_settings_save(configuration=sync_enabled, frequency="daily", custom=True, entity_types=["user", "tag"],
                           actor=Actor.system())
    assert "Users need Roles, Teams, Skills" in error.value.message
    sync_enabled.refresh_from_db()
    assert not sync_enabled.custom


def test_each_run_writes_one_audit_row_with_its_actor(configured, mapping):
    run_sync(configured)
    events = audit_events().filter(action="sync.run")
    assert events.count() == 1 and events.get().actor_name == "system"
    assert events.get().changes["status"] == "succeeded"


def test_a_failed_run_emails_the_bcp_administrators(configured, bcp_tenant):
    cc.tag_create(tenant=bcp_tenant, name="Escalated", actor=Actor.system())
    cc.tag_create(tenant=configured, name="Escalated", actor=Actor.system())
    mail.outbox.clear()
    run_sync(configured)
    assert [m.to for m in mail.outbox] == [["alice@classics.example.com"]]
    assert "BCP sync failed for Classics Inc." == mail.outbox[0].subject
    assert "“Escalated” was not copied" in mail.outbox[0].body


@pytest.mark.parametrize(("every", "written"), [(3600, False), (0, True)])
def test_a_run_shorter_than_the_progress_interval_writes_no_progress_of_its_own(configured, settings, monkeypatch,
                                                                                 every, written):
    """Progress goes to the run's row on a second connection, for the page to show while the run goes on; a run that
    ends sooner than SYNC_PROGRESS_EVERY opens none (its end writes the row), and one set to write at every step
    does."""
    from sync.engine import state

    writes = []
    monkeypatch.setattr(state.ProgressChannel, "write", lambda self, run_id, **kw: writes.append(kw["current_type"]))
    settings.SYNC_PROGRESS_EVERY = every
    run = sync_run_request(tenant=configured, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    finished = sync_run_execute(run_id=run.pk)
    assert finished.status == SyncRun.Status.SUCCEEDED
    assert bool(writes) is written
    if written:
        assert writes[-1] == "" and set(writes[:-1]) <= set(ALL_KEYS)


@pytest.mark.parametrize("also", ["deletes a tag", "changes the agent's skills"])
def test_reconciliation_reads_back_the_child_rows_a_run_may_have_touched(configured, bcp_tenant, monkeypatch, also):
    """A person whose name changed is rewritten, and their skill assignments, equal on both sides, are not: the run
    reads them back all the same when it rewrote them, or when it deleted anything (a delete may reach another
    record's rows). Changed on the BCP tenant between the writes and the check, they fail the run by name."""
    from contactcenter.models import SkillAssignment

    assert run_sync(configured).status == SyncRun.Status.SUCCEEDED
    andy = User.objects.get(tenant=configured, username="andy")
    profile = andy.agent_profile
    skills = {a.skill: a.proficiency for a in SkillAssignment.objects.filter(agent=profile).select_related("skill")}
    if also == "deletes a tag":
        cc.tag_delete(tag=Tag.objects.get(tenant=configured, name="VIP"), actor=Actor.system())
    else:
        skills = {skill: 2 for skill in skills}
    cc.agent_update(user=andy, username="andy", role=andy.role, first_name="Andrew", team=profile.team,
                    skills=skills, actor=Actor.system())

    copy = User.objects.get(tenant=bcp_tenant, username_key="andy").pk

    def tamper(name):
        if name == "before:reconcile":
            SkillAssignment.objects.filter(tenant=bcp_tenant, agent__user_id=copy).update(proficiency=4)

    monkeypatch.setattr(engine, "failpoint", tamper)
    run = run_sync(configured)
    from sync.messages import error_text

    assert run.status == SyncRun.Status.FAILED
    assert [error_text(e) for e in run.errors] == [
        "Reconciliation: 1 Users record differs on the BCP tenant from the primary: andy."]
