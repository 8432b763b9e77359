"""The sync across regions: the primary (North America) read in one snapshot, the backup (Europe) written in one
transaction, fenced against a switch, failing fast and backing off when a region does not answer.

Each test runs on SQLite (one in-memory database per region, one connection each) and, with DATABASE_URL and
REGION_DATABASE_URLS pointing at PostgreSQL servers, on PostgreSQL; the tests marked so need real concurrent
connections and run on PostgreSQL only."""

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connections
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from audit.services import Actor
from contactcenter import services as cc
from contactcenter.models import Tag, Team
from sync.engine import failpoints
from sync.engine import snapshot as snapshot_module
from sync.messages import error_text, skip_text
from sync.models import Correlation, Fence, SyncConfiguration, SyncRun
from sync.services import (
    queue_for,
    route_task,
    sync_dispatch,
    sync_fence_move,
    sync_run_execute,
    sync_run_request,
    worker_queues,
)
from tenants.models import BcpMapping
from tests.sync.conftest import BACKUP, run_sync

PRIMARY = "na"


def backup_state(mapping) -> dict:
    """What the backup's region and the control plane hold of the pair: enough to tell any write."""
    return {
        "correlations": sorted(Correlation.objects.filter(mapping=mapping).values_list(
            "entity_type", "source_id", "target_id", "content_hash")),
        "tags": sorted(Tag.objects.filter(tenant_id=mapping.secondary_id).values_list("name", "description")),
        "teams": sorted(Team.objects.filter(tenant_id=mapping.secondary_id).values_list("name", flat=True)),
        "users": sorted(User.objects.filter(tenant_id=mapping.secondary_id, is_bcp_copy=True)
                        .values_list("username", "first_name")),
    }


def start_run(tenant) -> SyncRun:
    return sync_run_request(tenant=tenant, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND, enqueue=False)


@pytest.fixture
def synced(configured, mapping):
    assert run_sync(configured).status == SyncRun.Status.SUCCEEDED
    cc.tag_update(tag=Tag.objects.get(tenant=configured, name="VIP"), name="VIP", description="changed since",
                  actor=Actor.system())
    cc.team_create(tenant=configured, name="Made after the last run", actor=Actor.system())
    return configured


@pytest.fixture
def light(small):
    """The small configuration (conftest), synced once, then a change on the primary."""
    tenant = small
    assert run_sync(tenant).status == SyncRun.Status.SUCCEEDED
    cc.tag_update(tag=Tag.objects.get(tenant=tenant, name="VIP"), name="VIP", description="changed since",
                  actor=Actor.system())
    return tenant


def at(point, action, monkeypatch):
    """Calls action() once when the run reaches failpoint `point`."""
    original = failpoints.failpoint
    done = []

    def hook(name):
        if name == point and not done:
            done.append(name)
            action()
        original(name)

    monkeypatch.setattr(failpoints, "failpoint", hook)


# --- where runs live and go -----------------------------------------------------------------------------


def test_a_pairs_runs_correlations_and_fence_live_in_the_backups_region(synced, mapping):
    run = SyncRun.objects.filter(mapping=mapping).first()
    assert run._state.db == BACKUP
    assert Correlation.objects.using(BACKUP).filter(mapping_id=mapping.pk).exists()
    assert not Correlation.objects.using(PRIMARY).filter(mapping_id=mapping.pk).exists()
    assert Fence.objects.using(BACKUP).filter(mapping_id=mapping.pk).exists()


def test_runs_go_to_the_queue_of_the_backups_region_and_a_worker_takes_every_queue(settings):
    assert route_task("sync.run", (7, "eu"), {}, {}) == {"queue": "sync.eu"}
    assert route_task("sync.run", (), {"run_id": 7, "region": "apac"}, {}) == {"queue": "sync.apac"}
    assert route_task("sync.dispatch", (), {}, {}) is None
    assert worker_queues() == ["celery", *(queue_for(code) for code in settings.REGION_DATABASES)]


# --- a point-in-time copy -------------------------------------------------------------------------------


def test_a_run_states_the_instant_of_the_primary_it_copied(configured, mapping, client):
    run = run_sync(configured)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.started_at <= run.source_as_of <= run.finished_at
    from sync.selectors import sync_state

    assert sync_state(tenant=configured).last_success.as_of == run.source_as_of


# --- the fence ------------------------------------------------------------------------------------------


def test_a_switch_that_moves_the_fence_during_a_run_rolls_it_back(synced, mapping, monkeypatch):
    before = backup_state(mapping)

    def switch_begins():  # the switch's first write, as tenant_switch makes it
        Fence.objects.using(BACKUP).filter(mapping_id=mapping.pk).update(generation=F("generation") + 1)

    at("before:commit", switch_begins, monkeypatch)
    run = start_run(synced)
    sync_run_execute(run_id=run.pk, region=BACKUP)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SKIPPED and run.skip_reason == "switched"
    assert "rolled back" in skip_text(run.skip_reason)
    assert run.counts == {}  # nothing of it was written
    assert backup_state(mapping) == before  # exactly as the last complete run left it


def test_the_switch_moves_the_fence_in_the_backups_region_before_it_flips(synced, mapping):
    generation = Fence.objects.using(BACKUP).get(mapping_id=mapping.pk).generation
    assert sync_fence_move(mapping=mapping) == generation + 1
    assert Fence.objects.using(BACKUP).get(mapping_id=mapping.pk).generation == generation + 1
    mapping.refresh_from_db()
    assert mapping.active_side == BcpMapping.Side.PRIMARY
    # A crash between the two writes (fence moved, pair not flipped): the next run reads the new generation.
    run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED and run.fence_generation == generation + 1
    assert ("VIP", "changed since") in backup_state(mapping)["tags"]


def test_tenant_switch_moves_the_fence_first(synced, mapping, monkeypatch):
    from enablement import services as enablement

    order = []
    real_move = enablement.sync_fence_move

    def move(*, mapping):
        order.append(("fence", BcpMapping.objects.get(pk=mapping.pk).active_side))
        return real_move(mapping=mapping)

    monkeypatch.setattr(enablement, "sync_fence_move", move)
    monkeypatch.setattr(enablement, "passkey_verify", lambda **kwargs: None)
    monkeypatch.setattr(enablement, "readiness", lambda **kwargs: type("R", (), {"blocking": [], "overridable": []})())
    generation = Fence.objects.using(BACKUP).get(mapping_id=mapping.pk).generation
    enablement.tenant_switch(mapping=mapping, to_side=BcpMapping.Side.SECONDARY, passkey="-", actor=Actor.system())
    assert order == [("fence", BcpMapping.Side.PRIMARY)]  # moved while the pair was still on the primary
    assert Fence.objects.using(BACKUP).get(mapping_id=mapping.pk).generation == generation + 1
    mapping.refresh_from_db()
    assert mapping.active_side == BcpMapping.Side.SECONDARY


# --- failing fast ---------------------------------------------------------------------------------------


def lose_region(alias, monkeypatch):
    """From now on every statement on `alias` fails as a database that stopped answering does, and a fresh
    connection to it fails too."""

    def dead(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    wrappers = connections[alias].execute_wrappers
    wrappers.append(dead)
    real = snapshot_module.region_answers
    monkeypatch.setattr(snapshot_module, "region_answers", lambda name: name != alias and real(name))
    import sync.services as services

    monkeypatch.setattr(services, "region_answers", lambda name: name != alias and real(name))
    return lambda: wrappers.remove(dead)


def test_the_source_lost_mid_run_fails_the_run_naming_its_region_and_leaves_the_backup(synced, mapping,
                                                                                    monkeypatch, region_na):
    before = backup_state(mapping)
    restore = []
    at("after:team", lambda: restore.append(lose_region(PRIMARY, monkeypatch)), monkeypatch)
    run = start_run(synced)
    try:
        sync_run_execute(run_id=run.pk, region=BACKUP)
    finally:
        for undo in restore:
            undo()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert [error["code"] for error in run.errors] == ["region_down"]
    text = error_text(run.errors[0])
    assert "North America" in text and "rolled back" in text
    assert backup_state(mapping) == before


def test_a_pair_whose_region_was_down_backs_off_instead_of_a_storm_of_runs(synced, mapping, monkeypatch, region_na,
                                                                           sync_enabled):
    restore = []
    at("after:snapshot", lambda: restore.append(lose_region(PRIMARY, monkeypatch)), monkeypatch)
    run = start_run(synced)
    try:
        sync_run_execute(run_id=run.pk, region=BACKUP)
    finally:
        for undo in restore:
            undo()
    configuration = SyncConfiguration.objects.get(mapping=mapping)
    assert configuration.unavailable_runs == 1 and configuration.retry_after > timezone.now()
    SyncConfiguration.objects.filter(pk=configuration.pk).update(next_run_at=timezone.now() - timedelta(minutes=1))
    assert sync_dispatch().queued == []  # due, but backing off
    later = configuration.retry_after + timedelta(seconds=1)
    assert len(sync_dispatch(now=later).queued) == 1
    run = SyncRun.objects.using(BACKUP).get(status=SyncRun.Status.QUEUED)
    sync_run_execute(run_id=run.pk, region=BACKUP)
    configuration.refresh_from_db()
    assert configuration.unavailable_runs == 0 and configuration.retry_after is None


# --- removing a pair ------------------------------------------------------------------------------------


def test_removing_a_pair_first_removes_its_runs_correlations_and_fence_in_the_backups_region(synced, mapping):
    from tenants.bcp.services import mapping_remove

    mapping_remove(mapping=mapping, actor=Actor.system())
    for model in (SyncRun, Correlation, Fence):
        assert not model.objects.using(BACKUP).filter(mapping_id=mapping.pk).exists(), model


# --- PostgreSQL: real concurrent connections ------------------------------------------------------------


def needs_postgresql():
    if connections[BACKUP].vendor != "postgresql" or connections[PRIMARY].vendor != "postgresql":
        pytest.skip("needs PostgreSQL regions (DATABASE_URL and REGION_DATABASE_URLS)")


@pytest.mark.django_db(transaction=True)
def test_postgresql_the_run_copies_the_primary_as_it_was_at_its_snapshot(light, mapping, monkeypatch):
    needs_postgresql()

    def someone_writes_on_the_primary():  # another connection, committed, after the run's snapshot
        def write():
            try:
                cc.tag_create(tenant=light, name="Written during the run", actor=Actor.system())
            finally:
                connections.close_all()

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(30)

    at("after:snapshot", someone_writes_on_the_primary, monkeypatch)
    run = run_sync(light)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert Tag.objects.filter(tenant=light, name="Written during the run").exists()
    assert not Tag.objects.filter(tenant_id=mapping.secondary_id, name="Written during the run").exists()
    monkeypatch.undo()
    assert run_sync(light).counts["tag"]["created"] == 1  # the next run takes it


@pytest.mark.django_db(transaction=True)
def test_postgresql_a_real_switch_racing_a_run_rolls_the_run_back_and_waits_only_for_a_commit(light, mapping,
                                                                                              monkeypatch):
    needs_postgresql()
    before = backup_state(mapping)
    moved = []

    def a_switch_moves_the_fence():
        def move():
            try:
                moved.append(sync_fence_move(mapping=BcpMapping.objects.get(pk=mapping.pk)))
            finally:
                connections.close_all()

        thread = threading.Thread(target=move)
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "the switch waited for the run"

    at("before:commit", a_switch_moves_the_fence, monkeypatch)
    run = start_run(light)
    sync_run_execute(run_id=run.pk, region=BACKUP)
    run.refresh_from_db()
    assert moved and run.status == SyncRun.Status.SKIPPED and run.skip_reason == "switched"
    assert backup_state(mapping) == before


@pytest.mark.django_db(transaction=True)
def test_postgresql_a_switch_arriving_during_the_commit_waits_for_it_and_the_run_commits(light, mapping,
                                                                                         monkeypatch):
    needs_postgresql()
    finished = threading.Event()
    thread_box = []

    def a_switch_arrives():
        def move():
            try:
                sync_fence_move(mapping=BcpMapping.objects.get(pk=mapping.pk))
            finally:
                finished.set()
                connections.close_all()

        thread = threading.Thread(target=move)
        thread.start()
        thread_box.append(thread)
        assert not finished.wait(1), "the fence moved while the run held it"

    at("after:fence-check", a_switch_arrives, monkeypatch)
    run = start_run(light)
    sync_run_execute(run_id=run.pk, region=BACKUP)
    thread_box[0].join(30)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert finished.is_set()
    assert ("VIP", "changed since") in backup_state(mapping)["tags"]


@pytest.mark.django_db(transaction=True)
def test_postgresql_the_source_lost_mid_run_fails_naming_its_region(light, mapping, monkeypatch, region_na):
    """The primary's server stops answering mid-run: its connection is cut and new ones are refused (the alias is
    pointed at a port where nothing listens, as a region whose server went away)."""
    needs_postgresql()
    import socket

    before = backup_state(mapping)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    source = connections[PRIMARY]
    saved = dict(source.settings_dict)

    def cut():
        source.settings_dict["PORT"] = free_port
        source.settings_dict["HOST"] = "127.0.0.1"
        source.connection.close()  # the server side went away

    at("after:team", cut, monkeypatch)
    run = start_run(light)
    try:
        sync_run_execute(run_id=run.pk, region=BACKUP)
    finally:
        source.close()
        source.settings_dict.update(saved)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.errors[0]["code"] == "region_down", run.errors
    assert "North America" in error_text(run.errors[0])
    assert backup_state(mapping) == before
