"""Continuous mode is driven by the change itself: a change's commit asks for its pair's run, which starts once the
changes have settled (a second after the last one, at most five after the first), with no polling beat; a burst
asks once; a change while a run is going gets one follow-up run; what the broker lost, the dispatcher starts.

The transactions commit here, so the hand-over on commit really happens. The messages go to a queue of the test's
own: most tests take them off it and do what the worker would, at the moment the test chooses (a change's
"settling" is its timestamps moved back, as the dispatcher tests pass `now`); one runs a real worker."""

import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError, connection, connections
from django.utils import timezone

from accounts.models import User
from audit.services import Actor
from bcp_project.celery import app
from contactcenter import services as cc
from contactcenter.models import Tag
from sync import tasks
from sync.bench_scheduling import make_pairs
from sync.models import Frequency, SyncConfiguration, SyncRun
from sync.services import (
    CONTINUOUS_CAP,
    CONTINUOUS_LOST_AFTER,
    CONTINUOUS_MESSAGE_LOST_AFTER,
    DISPATCH_CHAINS,
    sync_dispatch,
    sync_poll_changes,
    sync_run_execute,
    sync_run_request,
)
from tenants.models import BcpMapping
from tests.broker import broker_down, own_queue, take_messages
from tests.sync.conftest import BACKUP, run_sync

pytestmark = pytest.mark.django_db(transaction=True)

CONTINUOUS = "sync.continuous"
# What a worker runs for each message.
TASKS = {task.name: task for task in (tasks.run_sync, tasks.run_continuous, tasks.run_next)}


@pytest.fixture
def queue(tmp_path):
    with own_queue(tmp_path, f"bcp-test-continuous-{uuid.uuid4().hex[:12]}", tasks=tuple(TASKS)) as name:
        yield name


@pytest.fixture
def continuous(small, mapping, queue):
    """Classics Inc. syncs continuously and its BCP tenant holds the first copy."""
    now = timezone.now()
    configuration = SyncConfiguration.objects.create(mapping=mapping, enabled=True, frequency=Frequency.CONTINUOUS,
                                                     anchor_at=now, next_run_at=now + timedelta(hours=1))
    assert run_sync(small).status == SyncRun.Status.SUCCEEDED
    assert take_messages(queue) == []
    return configuration


def _settled(configuration):
    """As if the changes waiting had settled: the last one longer ago than the cap."""
    past = timezone.now() - CONTINUOUS_CAP - timedelta(seconds=1)
    SyncConfiguration.objects.filter(pk=configuration.pk, changes_pending_since__isnull=False).update(
        changes_pending_since=past, changes_last_at=past)


def _work(queue) -> list[str]:
    """What a worker does with the messages waiting: each task, in order. Returns their names."""
    messages = take_messages(queue)
    for name, args in messages:
        TASKS[name](*args)
    return [name for name, _args in messages]


def _runs(mapping):
    return list(SyncRun.objects.using(BACKUP).filter(mapping_id=mapping.pk).order_by("pk"))


def _backup_tag(mapping, name):
    return Tag.objects.filter(tenant=mapping.secondary, name=name).first()


def test_a_burst_of_10000_changes_asks_for_one_run_which_copies_them_all(continuous, small, mapping, queue):
    for n in range(10_000):
        Tag.objects.create(tenant=small, name=f"Burst {n:05d}")
    configuration = SyncConfiguration.objects.get(pk=continuous.pk)
    assert configuration.changes_pending_since is not None
    assert configuration.changes_last_at >= configuration.changes_pending_since

    # One message for the whole burst: the first change asked for the run, the others only moved its time on.
    messages = take_messages(queue)
    assert [name for name, _args in messages] == [CONTINUOUS]
    assert messages[0][1] == (mapping.pk, BACKUP)

    _settled(configuration)
    TASKS[CONTINUOUS](*messages[0][1])
    first, burst = _runs(mapping)
    assert (burst.trigger, burst.status) == (SyncRun.Trigger.CONTINUOUS, SyncRun.Status.SUCCEEDED), burst.errors
    assert burst.counts["tag"]["created"] == 10_000
    assert Tag.objects.filter(tenant=mapping.secondary, name__startswith="Burst ").count() == 10_000
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is None
    assert _work(queue) == []  # nothing came during the run: no follow-up


def test_a_change_before_it_has_settled_waits_for_it(continuous, small, mapping, queue):
    tag = Tag.objects.get(tenant=small, name="VIP")
    cc.tag_update(tag=tag, name="VIP", description="first", actor=Actor.system())
    # Delivered at once (its countdown not honoured): the change has not settled, so it asks again, for later.
    assert _work(queue) == [CONTINUOUS]
    assert len(_runs(mapping)) == 1
    assert [name for name, _args in take_messages(queue)] == [CONTINUOUS]
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is not None


def test_a_change_while_a_run_is_going_gets_exactly_one_follow_up_run(continuous, small, mapping, queue):
    going = sync_run_request(tenant=small, actor=Actor.system(), enqueue=False)
    runs = SyncRun.objects.using(BACKUP).filter(pk=going.pk)
    runs.update(status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now())  # a worker has it
    tag = Tag.objects.get(tenant=small, name="VIP")
    for n in range(3):
        cc.tag_update(tag=tag, name="VIP", description=f"change {n}", actor=Actor.system())
    _settled(continuous)
    # The pair's run is going: the changes stay marked, no second run is made beside it.
    assert _work(queue) == [CONTINUOUS]
    assert _runs(mapping)[-1].pk == going.pk
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is not None

    # When it ends, it asks for the follow-up; exactly one run follows, then nothing more. (The worker's run, done
    # here: its claim given back so that sync_run_execute claims it as that worker did.)
    runs.update(status=SyncRun.Status.QUEUED)
    assert sync_run_execute(run_id=going.pk, region=BACKUP).status == SyncRun.Status.SUCCEEDED
    _settled(continuous)
    assert _work(queue) == [CONTINUOUS]
    first, manual, follow_up = _runs(mapping)
    assert manual.pk == going.pk
    assert (follow_up.trigger, follow_up.status) == (SyncRun.Trigger.CONTINUOUS, SyncRun.Status.SUCCEEDED)
    assert _work(queue) == []
    assert _backup_tag(mapping, "VIP").description == "change 2"


def test_a_run_waiting_for_a_worker_is_run_by_the_pairs_change_instead_of_a_second_one(continuous, small, mapping,
                                                                                         queue):
    # "Sync now" was pressed; its run waits in a long queue. A change comes: its message runs that run, which has
    # not read the primary yet, so it copies the change; no second run is made, and nothing stays marked.
    waiting = sync_run_request(tenant=small, actor=Actor.system(), enqueue=False)
    cc.tag_update(tag=Tag.objects.get(tenant=small, name="VIP"), name="VIP", description="queued behind",
                  actor=Actor.system())
    _settled(continuous)
    assert _work(queue) == [CONTINUOUS]
    first, ran = _runs(mapping)
    assert (ran.pk, ran.status) == (waiting.pk, SyncRun.Status.SUCCEEDED)
    assert _backup_tag(mapping, "VIP").description == "queued behind"
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is None
    assert _work(queue) == []


def test_a_message_on_its_way_behind_a_long_queue_is_left_to_come(continuous, small, mapping, queue):
    # The pair's message waits behind thousands: the dispatcher does not take its changes for lost at 30 s (a second
    # run for the same changes, and a longer queue), only once the message is CONTINUOUS_MESSAGE_LOST_AFTER old.
    cc.tag_update(tag=Tag.objects.get(tenant=small, name="VIP"), name="VIP", description="on its way",
                  actor=Actor.system())
    assert [name for name, _args in take_messages(queue)] == [CONTINUOUS]
    now = timezone.now()
    assert sync_dispatch(now=now + CONTINUOUS_LOST_AFTER + timedelta(seconds=1)).queued == []
    assert sync_dispatch(now=now + CONTINUOUS_MESSAGE_LOST_AFTER - timedelta(seconds=1)).queued == []
    assert len(sync_dispatch(now=now + CONTINUOUS_MESSAGE_LOST_AFTER + timedelta(seconds=1)).queued) == 1
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is None


def test_a_change_during_its_pairs_run_is_asked_for_once(continuous, small, mapping, queue):
    # A change while the pair's run goes sends its message; the run's end sees it on its way and sends no second.
    going = sync_run_request(tenant=small, actor=Actor.system(), enqueue=False)
    runs = SyncRun.objects.using(BACKUP).filter(pk=going.pk)
    runs.update(status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now())  # a worker has it
    cc.tag_update(tag=Tag.objects.get(tenant=small, name="VIP"), name="VIP", description="during",
                  actor=Actor.system())
    messages = take_messages(queue)
    assert [name for name, _args in messages] == [CONTINUOUS]
    runs.update(status=SyncRun.Status.QUEUED)
    assert sync_run_execute(run_id=going.pk, region=BACKUP).status == SyncRun.Status.SUCCEEDED
    assert take_messages(queue) == []  # no follow-up beside the message on its way
    _settled(continuous)
    TASKS[CONTINUOUS](*messages[0][1])
    assert _runs(mapping)[-1].trigger == SyncRun.Trigger.CONTINUOUS
    assert _backup_tag(mapping, "VIP").description == "during"


def test_a_run_the_dispatcher_made_for_a_message_it_took_for_lost_is_run_by_that_message(continuous, small, mapping,
                                                                                         queue):
    # The pair's message comes after all, once the dispatcher took it for lost and queued a run for a chain, itself
    # far back in the queue: the message runs that run, not nothing.
    cc.tag_update(tag=Tag.objects.get(tenant=small, name="VIP"), name="VIP", description="late message",
                  actor=Actor.system())
    (message,) = take_messages(queue)
    dispatched = sync_dispatch(now=timezone.now() + CONTINUOUS_MESSAGE_LOST_AFTER + timedelta(seconds=1))
    assert len(dispatched.queued) == 1
    take_messages(queue)  # the chain, still far back in the queue
    TASKS[message[0]](*message[1])
    first, ran = _runs(mapping)
    assert (ran.trigger, ran.status) == (SyncRun.Trigger.CONTINUOUS, SyncRun.Status.SUCCEEDED)
    assert _backup_tag(mapping, "VIP").description == "late message"


def test_changes_whose_message_was_lost_are_started_by_the_dispatcher(continuous, small, mapping, queue):
    tag = Tag.objects.get(tenant=small, name="VIP")
    with broker_down():
        cc.tag_update(tag=tag, name="VIP", description="while the queue was down", actor=Actor.system())
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is not None
    now = timezone.now()
    assert sync_dispatch(now=now).queued == []  # its own message may still come
    dispatched = sync_dispatch(now=now + CONTINUOUS_LOST_AFTER + timedelta(seconds=1))
    assert len(dispatched.queued) == 1
    assert _runs(mapping)[-1].trigger == SyncRun.Trigger.CONTINUOUS
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is None


def test_no_continuous_run_while_the_bcp_tenant_is_active(continuous, small, mapping, queue):
    BcpMapping.objects.filter(pk=mapping.pk).update(active_side=BcpMapping.Side.SECONDARY)
    cc.tag_update(tag=Tag.objects.get(tenant=small, name="VIP"), name="VIP", description="paused",
                  actor=Actor.system())
    _settled(continuous)
    assert _work(queue) == [CONTINUOUS]
    assert len(_runs(mapping)) == 1
    # The changes stay marked: after switching back, the dispatcher starts their run.
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is not None


def test_a_bulk_update_and_raw_sql_reach_the_backup_through_the_change_logs(continuous, small, mapping, queue):
    """No signal sees these writes: beat's look at the change logs (every second) asks for their run."""
    assert sync_poll_changes() == []  # the first sync read everything logged
    Tag.objects.filter(tenant=small, name="VIP").update(description="bulk")
    assert take_messages(queue) == []
    assert sync_poll_changes() == [mapping.pk]
    assert sync_poll_changes() == []  # marked: once is enough
    _settled(continuous)
    assert _work(queue) == [CONTINUOUS]
    assert _backup_tag(mapping, "VIP").description == "bulk"

    tag = Tag.objects.get(tenant=small, name="VIP")
    with connections["na"].cursor() as cursor:
        cursor.execute(f"UPDATE {Tag._meta.db_table} SET description = %s WHERE id = %s", ["raw SQL", tag.pk])  # noqa: S608
    assert sync_poll_changes() == [mapping.pk]
    _settled(continuous)
    assert _work(queue) == [CONTINUOUS]
    assert _backup_tag(mapping, "VIP").description == "raw SQL"
    assert sync_poll_changes() == []
    assert [run.trigger for run in _runs(mapping)] == [SyncRun.Trigger.COMMAND] + [SyncRun.Trigger.CONTINUOUS] * 2


def test_the_look_at_the_change_logs_leaves_a_pair_whose_run_is_going_to_that_run(continuous, small, mapping, queue):
    going = sync_run_request(tenant=small, actor=Actor.system(), enqueue=False)
    Tag.objects.filter(tenant=small, name="VIP").update(description="read by the run going")
    assert sync_poll_changes() == []
    sync_run_execute(run_id=going.pk, region=BACKUP)
    assert _work(queue) == []  # nothing marked: no follow-up
    assert sync_poll_changes() == []  # the run read it
    assert _backup_tag(mapping, "VIP").description == "read by the run going"


def test_a_sign_in_is_not_a_change(continuous, small, client, queue):
    from tests.factories import PASSWORD

    assert client.post("/sign-in/", {"username": "andy", "password": PASSWORD}).status_code == 302
    assert User.objects.get(username="andy", tenant=small).last_login is not None
    assert SyncConfiguration.objects.get(pk=continuous.pk).changes_pending_since is None
    assert take_messages(queue) == []


def test_a_change_through_a_service_reaches_the_backup_with_a_real_worker_and_no_beat(continuous, small, mapping,
                                                                                    queue):
    """The worker runs in this process (on the test's queue, the test's databases); nothing calls the dispatcher."""
    tag = Tag.objects.get(tenant=small, name="VIP")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[queue]):
        cc.tag_update(tag=tag, name="VIP", description="straight through", actor=Actor.system())
        deadline = timezone.now() + timedelta(seconds=60)
        while not _copied(mapping):
            assert timezone.now() < deadline, "the change did not reach the BCP tenant"
    connection.close()
    last = _runs(mapping)[-1]
    assert (last.trigger, last.status) == (SyncRun.Trigger.CONTINUOUS, SyncRun.Status.SUCCEEDED), last.errors
    assert _backup_tag(mapping, "VIP").description == "straight through"


def _copied(mapping) -> bool:
    try:
        return SyncRun.objects.using(BACKUP).filter(mapping_id=mapping.pk, trigger=SyncRun.Trigger.CONTINUOUS,
                                                    status=SyncRun.Status.SUCCEEDED).exists()
    except OperationalError:  # SQLite: the run holds the table
        return False


def test_a_dispatch_starts_its_runs_with_a_few_chains_that_run_them_all(small, mapping, queue):
    """Scheduled runs, not continuous ones: the dispatcher's chains (sync.next), worked the way a worker would."""
    now = timezone.now()
    _primaries, mappings = make_pairs(DISPATCH_CHAINS + 3, prefix="Chained")
    SyncConfiguration.objects.bulk_create([SyncConfiguration(mapping=m, enabled=True, next_run_at=now,
                                                             anchor_at=now - timedelta(days=1)) for m in mappings])
    assert len(sync_dispatch(now=now).queued) == DISPATCH_CHAINS + 3
    worked = _work(queue)
    assert worked[:DISPATCH_CHAINS] == ["sync.next"] * DISPATCH_CHAINS
    while more := _work(queue):  # each chain sent itself on while queued runs remained
        worked += more
    assert set(worked) == {"sync.next"}
    runs = SyncRun.objects.using(BACKUP).filter(mapping_id__in=[m.pk for m in mappings])
    assert runs.count() == DISPATCH_CHAINS + 3
    assert set(runs.values_list("status", flat=True)) == {SyncRun.Status.SUCCEEDED}
