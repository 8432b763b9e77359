"""GET /healthz: what a monitoring system polls. The heartbeat is proved with a real Celery worker on the
configured broker (Redis when REDIS_URL is set, as in CI; the filesystem transport otherwise)."""

import faulthandler
import socket
import threading
import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from kombu import Exchange, Queue, pools

from bcp_project import health
from bcp_project.celery import app
from bcp_project.models import Heartbeat
from bcp_project.tasks import heartbeat

URL = reverse("healthz")
# Nothing in this file may hang CI: every wait below is bounded, and this is the last resort.
HARD_LIMIT_SECONDS = 120


def _fresh_heartbeat(age=timedelta(0)):
    Heartbeat.objects.update_or_create(name="celery", defaults={"beat_at": timezone.now() - age})


def _reset_producer_pools():
    # Producers and connections are pooled per broker configuration; drop them so the next
    # `delay()` uses the configuration of the moment.
    # app.pool is kombu's registered pool for the broker (kombu.pools.connections), which the cached producer pool
    # holds as well: closing it while it stays registered would leave every later send of this process on a
    # closed pool ("Acquire on closed pool"), so the registrations go too.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _forget_queues():
    # Celery caches the default queue, exchange and router on first use; drop them so that the next
    # `delay()` and the next worker read `task_default_queue` again.
    for name in ("queues", "default_queue", "default_exchange", "router"):
        app.amqp.__dict__.pop(name, None)


@pytest.fixture
def own_queue():
    """A default queue of the test's own: another worker on the same Redis (a `make run`, a second CI
    run on the same machine) can neither take the test's heartbeat nor hand it one."""
    original = app.conf.task_default_queue
    queue = f"bcp-test-{uuid.uuid4().hex[:12]}"
    app.conf.task_default_queue = queue
    _forget_queues()
    try:
        yield queue
    finally:
        app.conf.task_default_queue = original
        _forget_queues()
        if not app.conf.broker_url.startswith("filesystem") and health.check_broker()[0]:
            with app.connection_for_write() as conn:
                bound = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
                bound.declare()
                bound.delete()


@pytest.fixture
def own_broker(tmp_path, own_queue):
    """The configured broker, on a queue of the test's own; the filesystem transport also gets a
    folder of its own, so that a `make run` worker of the same checkout never sees the test's messages."""
    if not app.conf.broker_url.startswith("filesystem"):
        yield app.conf.broker_url
        return
    folder = tmp_path / "broker"
    for sub in ("processed", "control"):
        (folder / sub).mkdir(parents=True)
    original = app.conf.broker_transport_options
    app.conf.broker_transport_options = {
        **original,
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }
    _reset_producer_pools()
    try:
        yield app.conf.broker_url
    finally:
        app.conf.broker_transport_options = original
        _reset_producer_pools()


@pytest.fixture
def hard_limit():
    faulthandler.dump_traceback_later(HARD_LIMIT_SECONDS, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.mark.django_db
def test_it_needs_no_sign_in_and_reports_each_part(client):
    _fresh_heartbeat()

    response = client.get(URL)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": "ok"}
    assert body["broker"] == {"ok": True, "detail": "ok"}
    assert body["heartbeat"]["ok"] is True
    assert 0 <= body["heartbeat"]["age_seconds"] < 60
    assert body["heartbeat"]["max_age_seconds"] == settings.HEARTBEAT_MAX_AGE.total_seconds()


@pytest.mark.django_db
def test_it_is_503_when_there_has_never_been_a_heartbeat(client):
    response = client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["heartbeat"] == {
        "ok": False, "age_seconds": None, "max_age_seconds": settings.HEARTBEAT_MAX_AGE.total_seconds(),
    }
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


@pytest.mark.django_db
def test_it_is_503_when_the_heartbeat_is_too_old(client):
    _fresh_heartbeat(age=settings.HEARTBEAT_MAX_AGE + timedelta(seconds=5))

    response = client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["heartbeat"]["ok"] is False
    assert body["heartbeat"]["age_seconds"] > settings.HEARTBEAT_MAX_AGE.total_seconds()
    assert body["database"]["ok"] is True and body["broker"]["ok"] is True


@pytest.mark.django_db
def test_it_is_still_200_just_inside_the_maximum_age(client):
    _fresh_heartbeat(age=settings.HEARTBEAT_MAX_AGE - timedelta(seconds=5))

    assert client.get(URL).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("broker_url", [
    "redis://127.0.0.1:1/0",  # nothing listens: refused at once
    "redis://{silent}/0",  # accepts the connection and never answers: must time out, not hang
])
def test_it_is_503_quickly_when_the_broker_is_unreachable(client, monkeypatch, broker_url, silent_server):
    _fresh_heartbeat()
    monkeypatch.setattr(app.conf, "broker_url", broker_url.format(silent=silent_server))

    started = time.monotonic()
    response = client.get(URL)
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False
    assert body["broker"]["detail"]
    assert body["database"]["ok"] is True and body["heartbeat"]["ok"] is True
    assert elapsed < 3, f"the broker check took {elapsed:.1f} s"


@pytest.fixture
def silent_server():
    """host:port of a TCP server that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0), backlog=8)
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def test_the_broker_check_recovers_when_the_broker_comes_back(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
        assert health.check_broker()[0] is False
    assert health.check_broker() == (True, "ok")


class _BrokenConnection:
    def cursor(self):
        raise OperationalError("connection refused")


@pytest.mark.django_db
def test_it_is_503_when_the_database_check_fails(client, monkeypatch):
    _fresh_heartbeat()
    monkeypatch.setattr(health, "connection", _BrokenConnection())

    response = client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == {"ok": False, "detail": "OperationalError"}
    assert body["broker"]["ok"] is True


@pytest.fixture
def task_done():
    """Set, with the task's state, when a task has finished in the worker. The worker's thread closes its
    own database connection then: one left open would hold on to the test database when it is dropped."""
    done = threading.Event()
    done.states = []

    def finished(state=None, **kwargs):
        connection.close()
        done.states.append(state)
        done.set()

    task_postrun.connect(finished, weak=False, dispatch_uid="test_health.task_done")
    try:
        yield done
    finally:
        task_postrun.disconnect(dispatch_uid="test_health.task_done")


@pytest.mark.django_db(transaction=True)
def test_it_is_200_after_a_heartbeat_ran_through_a_real_worker(client, own_broker, hard_limit, task_done):
    assert client.get(URL).status_code == 503
    # Fail at once, with the reason, rather than wait on a broker that is not there.
    assert health.check_broker() == (True, "ok"), f"no broker at {own_broker}"

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=15):
        heartbeat.delay()
        # Wait for the worker to say it is done rather than poll the table meanwhile: SQLite's shared
        # in-memory test database locks a whole table while another thread reads it, and the write fails.
        assert task_done.wait(20), f"the worker ran no task within 20 s through {own_broker}"

    assert task_done.states == ["SUCCESS"]
    assert Heartbeat.objects.filter(name="celery").exists()

    response = client.get(URL)
    assert response.status_code == 200, response.content
    assert response.json()["heartbeat"]["age_seconds"] < 30


def test_beat_runs_the_heartbeat_every_30_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["heartbeat"]

    assert entry["task"] in app.tasks
    assert heartbeat.name == entry["task"]
    assert entry["schedule"] == 30.0
    # Two beats may be missed before the page says "down".
    assert settings.HEARTBEAT_MAX_AGE.total_seconds() >= 2 * entry["schedule"]
