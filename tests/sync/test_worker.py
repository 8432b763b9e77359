"""A real Celery worker on the real broker runs the sync; one is killed in the middle of its run, which leaves the
backup exactly as it was (the run's transaction never committed), and the next worker completes the run, with no
duplicate and no orphan correlation."""

import os
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from kombu import Exchange, Queue

from accounts.models import User
from audit.services import Actor
from bcp_project.celery import app
from sync.models import Correlation, SyncRun
from sync.services import STALE_AFTER, sync_run_request
from sync.tasks import run_sync
from tests.platform.test_beat import _NOT_INHERITED, _start, _stop
from tests.sync.conftest import BACKUP
from tests.sync.test_runs import assert_complete_copy

WAIT = 90


@pytest.fixture
def worker_env(tmp_path):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("runs a worker process against PostgreSQL and Redis (CI sets both)")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"bcp-sync-test-{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    # The worker uses the test's databases: the control plane's and each region's (REGION_DATABASE_URLS).
    regions = ",".join(f"{alias}={_url(connections[alias].settings_dict)}" for alias in settings.REGION_DATABASES)
    env.update(DJANGO_SETTINGS_MODULE="tests.platform.celery_process_settings", DATABASE_URL=url,
               REGION_DATABASE_URLS=regions,
               BCP_TEST_QUEUE=queue, BCP_TEST_BEAT_SECONDS="3600", BCP_TEST_BROKER_DIR=str(tmp_path / "broker"))
    yield env, queue
    with app.connection_for_write() as conn:
        leftover = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
        leftover.declare()
        leftover.delete()


def _url(db) -> str:
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(tmp_path, name, env):
    return _start(tmp_path, name, ["worker", "--pool=solo", "--without-gossip", "--without-mingle",
                                   "--without-heartbeat", "--loglevel=INFO"], env)


def _wait(condition, process=None, log=None):
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out\n{log.read_text() if log else ''}")
        time.sleep(0.25)


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_the_backup_as_it_was_and_the_next_worker_completes_the_run(small, mapping,
                                                                                           worker_env, tmp_path):
    env, queue = worker_env
    configured = small
    run = sync_run_request(tenant=configured, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND, enqueue=False)

    doomed = _worker(tmp_path, "killed", {**env, "BCP_SYNC_FAILPOINT": "in:user:create"})
    try:
        run_sync.apply_async(args=[run.pk, BACKUP], queue=queue)
        _wait(lambda: doomed.poll() is not None, log=tmp_path / "killed.log")
    finally:
        _stop(doomed)
    assert doomed.returncode == 137
    run.refresh_from_db()
    # Its progress was written on a connection of its own (the worker's settings write it at every step, not once a
    # second); its copies were never committed.
    assert run.status == SyncRun.Status.RUNNING and run.counts["role"]["total"] == 3
    assert not Correlation.objects.filter(mapping=mapping).exists()
    assert not User.objects.filter(tenant=mapping.secondary, is_bcp_copy=True).exists()

    # The dispatcher would send it again once its heartbeat is old; a fresh worker takes it over.
    SyncRun.objects.using(BACKUP).filter(pk=run.pk).update(heartbeat_at=timezone.now() - STALE_AFTER * 2)
    survivor = _worker(tmp_path, "survivor", env)
    try:
        run_sync.apply_async(args=[run.pk, BACKUP], queue=queue)
        _wait(lambda: SyncRun.objects.using(BACKUP).get(pk=run.pk).status != SyncRun.Status.RUNNING,
              log=tmp_path / "survivor.log")
    finally:
        _stop(survivor)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.attempts == 2
    assert_complete_copy(mapping)
