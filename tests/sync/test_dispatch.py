"""The dispatcher beat calls: claiming due configurations, catch-up after an outage (continuous mode:
test_continuous.py)."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from bcp_project.regions import health
from sync.bench_scheduling import make_pairs
from sync.models import SyncConfiguration, SyncRun
from sync.services import next_slot, sync_dispatch
from tenants.models import BcpMapping
from tests.sync.conftest import BACKUP


@pytest.fixture
def t0(sync_enabled):
    """A moment just after the configuration became due."""
    return timezone.now() + timedelta(seconds=1)


def test_slots_fall_on_the_time_of_day_the_sync_was_enabled():
    anchor = timezone.now().replace(hour=14, minute=2, second=0)
    day = timedelta(days=1)
    assert next_slot(anchor=anchor, interval=day, after=anchor) == anchor + day
    assert next_slot(anchor=anchor, interval=day, after=anchor + timedelta(days=2, hours=5)) == anchor + 3 * day
    assert next_slot(anchor=anchor, interval=timedelta(hours=6), after=anchor + timedelta(hours=7)) == (
        anchor + timedelta(hours=12))


def test_a_due_configuration_gets_one_run_and_its_next_slot(t0, sync_enabled):
    result = sync_dispatch(now=t0)
    assert len(result.queued) == 1
    run = SyncRun.objects.using(BACKUP).get()
    assert run.trigger == SyncRun.Trigger.SCHEDULE and run.status == SyncRun.Status.QUEUED
    sync_enabled.refresh_from_db()
    assert sync_enabled.next_run_at > t0
    assert sync_dispatch(now=t0).queued == []  # nothing more is due


def test_two_days_without_beat_make_one_catch_up_run_not_a_backlog(t0, sync_enabled):
    SyncConfiguration.objects.filter(pk=sync_enabled.pk).update(anchor_at=t0 - timedelta(days=3),
                                                               next_run_at=t0 - timedelta(days=2))
    assert len(sync_dispatch(now=t0).queued) == 1
    SyncRun.objects.using(BACKUP).update(status=SyncRun.Status.SUCCEEDED, finished_at=t0)
    assert sync_dispatch(now=t0 + timedelta(minutes=1)).queued == []
    sync_enabled.refresh_from_db()
    assert t0 < sync_enabled.next_run_at <= t0 + timedelta(days=1)


def test_a_scheduled_run_is_recorded_as_skipped_while_the_bcp_tenant_is_active(t0, sync_enabled, mapping):
    BcpMapping.objects.filter(pk=mapping.pk).update(active_side=BcpMapping.Side.SECONDARY)
    result = sync_dispatch(now=t0)
    assert result.queued == [] and len(result.skipped) == 1
    run = SyncRun.objects.using(BACKUP).get()
    assert run.status == SyncRun.Status.SKIPPED and run.skip_reason == "bcp_active"


def test_a_lost_run_is_sent_again(t0, sync_enabled):
    sync_dispatch(now=t0)
    run = SyncRun.objects.using(BACKUP).get()
    SyncRun.objects.using(BACKUP).filter(pk=run.pk).update(status=SyncRun.Status.RUNNING,
                                                            heartbeat_at=t0 - timedelta(minutes=5))
    assert sync_dispatch(now=t0).requeued == [run.pk]


def test_a_stale_sync_emails_its_administrators_once(t0, sync_enabled, configured,
                                                   django_capture_on_commit_callbacks):
    mail.outbox.clear()
    SyncConfiguration.objects.filter(pk=sync_enabled.pk).update(anchor_at=t0 - timedelta(days=2),
                                                               next_run_at=t0 + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert len(sync_dispatch(now=t0).alerted) == 1
    assert mail.outbox[0].subject == "No successful BCP sync for Classics Inc."
    assert sync_dispatch(now=t0 + timedelta(minutes=1)).alerted == []
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_claim_every_due_configuration_once(small, mapping):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions; CI runs it there")
    now = timezone.now()
    _primaries, mappings = make_pairs(300, prefix="Due")
    SyncConfiguration.objects.bulk_create(
        [SyncConfiguration(mapping=m, enabled=True, anchor_at=now - timedelta(days=1), next_run_at=now)
         for m in [mapping, *mappings]])
    barrier = threading.Barrier(2)
    results, errors = [], []

    def dispatch():
        try:
            barrier.wait(5)
            results.append(sync_dispatch(now=now))
        except Exception as exc:  # noqa: BLE001 - reported below, with the test's own assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    first, second = (set(result.queued) for result in results)
    assert not first & second and len(first | second) == 301
    assert SyncRun.objects.using(BACKUP).count() == 301
    assert SyncRun.objects.using(BACKUP).filter(mapping=mapping).count() == 1
    # Each moved on to the same time tomorrow: nothing is due now.
    assert not SyncConfiguration.objects.filter(next_run_at__lte=now).exists()
    assert set(SyncConfiguration.objects.values_list("next_run_at", flat=True)) == {now + timedelta(days=1)}


def test_a_region_that_does_not_answer_costs_only_its_own_pairs_their_runs(t0, sync_enabled):
    """Found by a walk of the demo: with one region down, the dispatcher failed for every pair."""
    health.mark_down("apac", "test")  # no region of this pair
    assert len(sync_dispatch(now=t0).queued) == 1
    assert SyncRun.objects.using(BACKUP).get().status == SyncRun.Status.QUEUED


def test_a_slot_claimed_while_the_backup_region_is_down_runs_once_it_answers(t0, sync_enabled):
    health.mark_down(BACKUP, "test")
    assert sync_dispatch(now=t0).queued == []
    sync_enabled.refresh_from_db()
    assert sync_enabled.next_run_at <= t0  # still due: not moved on to tomorrow
    health.mark_up(BACKUP)
    assert len(sync_dispatch(now=t0 + timedelta(seconds=10)).queued) == 1
