"""A real Celery worker on the real broker runs the sync; one is killed in the middle of a chunk and the run
is finished by the next worker, with no duplicate and no orphan correlation."""

import os
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Exchange, Queue

from audit.services import Actor
from bcp_project.celery import app
from sync.models import SyncRun
from sync.services import STALE_AFTER, sync_run_request
from sync.tasks import run_sync
from tests.platform.test_beat import _NOT_INHERITED, _start, _stop
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
    env.update(DJANGO_SETTINGS_MODULE="tests.platform.celery_process_settings", DATABASE_URL=url,
               BCP_TEST_QUEUE=queue, BCP_TEST_BEAT_SECONDS="3600", BCP_TEST_BROKER_DIR=str(tmp_path / "broker"))
    yield env, queue
    with app.connection_for_write() as conn:
        leftover = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
        leftover.declare()
        leftover.delete()


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
def test_a_worker_killed_in_a_chunk_leaves_a_run_the_next_worker_completes(configured, mapping, worker_env, tmp_path):
    env, queue = worker_env
    run = sync_run_request(tenant=configured, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND, enqueue=False)

    doomed = _worker(tmp_path, "killed", {**env, "BCP_SYNC_FAILPOINT": "in:user:create"})
    try:
        run_sync.apply_async(args=[run.pk], queue=queue)
        _wait(lambda: doomed.poll() is not None, log=tmp_path / "killed.log")
    finally:
        _stop(doomed)
    assert doomed.returncode == 137
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING and run.counts["role"]["updated"] == 3
    assert "user" not in {key for key, c in run.counts.items() if c.get("created")}

    # The dispatcher would send it again once its heartbeat is old; a fresh worker takes it over.
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - STALE_AFTER * 2)
    survivor = _worker(tmp_path, "survivor", env)
    try:
        run_sync.apply_async(args=[run.pk], queue=queue)
        _wait(lambda: SyncRun.objects.get(pk=run.pk).status != SyncRun.Status.RUNNING,
              log=tmp_path / "survivor.log")
    finally:
        _stop(survivor)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.attempts == 2
    assert_complete_copy(mapping)
