"""Rehearse: the passkey (counted by the throttle), every readiness check, the RPO, a dry-run switch that leaves
nothing behind, a sync, and the drill that records it all; once with a real Celery worker on the real broker."""

import threading
import uuid
from datetime import datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu import Exchange, Queue

from accounts.models import User
from audit.services import Actor
from bcp_project.celery import app
from continuity.drills import services as drills
from continuity.drills.rehearsal_completion import REHEARSAL_TIMEOUT, rehearsal_complete
from continuity.drills.selectors import drill_schedule
from continuity.models import Drill
from enablement import routing
from enablement import services as enablement
from enablement.models import PasskeyAttempt
from sync.models import SyncRun
from sync.services import sync_run_execute
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.broker import forget_routing
from tests.enablement.conftest import (  # noqa: F401
    PASSKEY,
    _fresh_routing_cache,
    configured,
    mapping,
    sync_enabled,
    synced,
)
from tests.factories import PASSWORD
from tests.sync.conftest import BACKUP
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

WAIT_SECONDS = 60


def alice():
    return User.objects.get(username="alice", is_bcp_copy=False)


def _signed_in(username="andy") -> Client:
    browser = Client()
    assert browser.post(reverse("accounts:login"), {"username": username, "password": PASSWORD}).status_code == 302
    return browser


def _nothing_was_switched(pair):
    pair.refresh_from_db()
    assert (pair.active_side, pair.routing_epoch, pair.switched_by) == (BcpMapping.Side.PRIMARY, 0, None)
    assert routing.routing_epoch(mapping_id=pair.pk) == 0
    assert not audit_events().filter(action="enablement.switch").exists()
    assert not [m for m in mail.outbox if "switched" in m.subject or "active again" in m.subject]


def test_a_rehearsal_checks_syncs_times_the_switch_and_moves_nothing(synced, django_capture_on_commit_callbacks):  # noqa: F811
    agent = _signed_in()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        drill = drills.rehearse(tenant=synced.primary, passkey=PASSKEY, actor=Actor(user=alice()))
    # Only the sync run and the rehearsal's completion wait for the commit; the dry run's routing-cache write,
    # its emails and its tenant_switched signal were discarded with its savepoint.
    assert sorted(c.__qualname__ for c in callbacks) == ["_enqueue_after_commit.<locals>.send",
                                                          "rehearse.<locals>.<lambda>"]
    _nothing_was_switched(synced)
    assert agent.get(reverse("accounts:profile")).status_code == 200  # nobody is signed out
    # The rehearsal's right passkey is one attempt; the dry run's own check went with the rollback.
    assert list(PasskeyAttempt.objects.values_list("succeeded", flat=True)) == [True]

    assert (drill.kind, drill.outcome, drill.recorded_by) == (Drill.Kind.REHEARSAL, Drill.Outcome.PENDING, alice())
    report = drill.report
    assert [c["key"] for c in report["checks"] if not c["ok"]] == []
    # The seven of the pair and its sync, and the BCP tenant's side: its region answers, no outage reported.
    assert len(report["checks"]) == 9 and {"bcp_region", "bcp_status"} <= {c["key"] for c in report["checks"]}
    assert 0 <= report["rpo_before_seconds"] < 60
    assert report["switch"]["ms"] > 0
    run = SyncRun.objects.using(BACKUP).get(pk=report["sync"]["run_id"])
    assert (run.trigger, run.status, run.requested_by) == (SyncRun.Trigger.MANUAL, SyncRun.Status.QUEUED, alice())
    assert audit_events().get(action="continuity.drill_rehearse").actor == alice()

    assert rehearsal_complete(drill_id=drill.pk, region=drill._state.db) is False  # the sync has not run: ask later
    sync_run_execute(run_id=run.pk)
    assert rehearsal_complete(drill_id=drill.pk, region=drill._state.db) is True
    drill.refresh_from_db()
    assert drill.outcome == Drill.Outcome.PASSED, drill.report["findings"]
    report = drill.report
    assert report["sync"]["status"] == "succeeded" and report["sync"]["duration_seconds"] >= 0
    assert report["sync"]["totals"]["failed"] == 0
    assert 0 <= report["rpo_after_seconds"] < 60
    assert audit_events().get(action="continuity.drill_rehearsal_complete").changes["outcome"] == "passed"
    assert rehearsal_complete(drill_id=drill.pk, region=drill._state.db) is True  # done once: changes nothing
    assert audit_events().filter(action="continuity.drill_rehearsal_complete").count() == 1
    _nothing_was_switched(synced)


def test_a_sync_that_does_not_finish_in_time_is_a_finding(synced):  # noqa: F811
    drill = drills.rehearse(tenant=synced.primary, passkey=PASSKEY, actor=Actor(user=alice()))
    started = datetime.fromisoformat(drill.report["started_at"])
    assert rehearsal_complete(drill_id=drill.pk, region=drill._state.db, now=started + timedelta(minutes=9)) is False
    assert rehearsal_complete(drill_id=drill.pk, region=drill._state.db, now=started + REHEARSAL_TIMEOUT) is True
    drill.refresh_from_db()
    assert drill.outcome == Drill.Outcome.PARTIAL
    assert [f["code"] for f in drill.report["findings"]] == ["sync_timeout"]


def test_the_daily_task_completes_a_rehearsal_whose_task_was_lost(synced):  # noqa: F811
    from continuity.tasks import continuity_daily

    drill = drills.rehearse(tenant=synced.primary, passkey=PASSKEY, actor=Actor(user=alice()))
    continuity_daily(now=datetime.fromisoformat(drill.report["started_at"]) + timedelta(minutes=5))
    drill.refresh_from_db()
    assert drill.outcome == Drill.Outcome.PENDING  # its task may still be waiting
    continuity_daily(now=drill.created_at + REHEARSAL_TIMEOUT + timedelta(minutes=1))
    drill.refresh_from_db()
    assert drill.outcome == Drill.Outcome.PARTIAL and drill.report["findings"] == [{"code": "sync_timeout",
                                                                                     "minutes": 10}]


def test_a_failed_sync_fails_the_rehearsal(synced):  # noqa: F811
    drill = drills.rehearse(tenant=synced.primary, passkey=PASSKEY, actor=Actor(user=alice()))
    SyncRun.objects.using(BACKUP).filter(pk=drill.report["sync"]["run_id"]).update(
        status=SyncRun.Status.FAILED, errors=[{"code": "error", "detail": "boom"}])
    rehearsal_complete(drill_id=drill.pk, region=drill._state.db)
    drill.refresh_from_db()
    assert drill.outcome == Drill.Outcome.FAILED
    assert drill.report["findings"] == [{"code": "sync_failed", "errors": 1}]


def test_a_pair_that_never_synced_rehearses_with_findings(configured, sync_enabled, mapping):  # noqa: F811
    drill = drills.rehearse(tenant=mapping.primary, passkey=PASSKEY, actor=Actor(user=alice()))
    assert drill.report["rpo_before_seconds"] is None
    assert "No sync has completed yet" in drill.report["switch"]["refused"]
    sync_run_execute(run_id=drill.report["sync"]["run_id"])
    rehearsal_complete(drill_id=drill.pk, region=drill._state.db)
    drill.refresh_from_db()
    assert drill.outcome == Drill.Outcome.PARTIAL
    codes = [(f["code"], f.get("key")) for f in drill.report["findings"]]
    assert ("check_failed", "sync_fresh") in codes and ("switch_refused", None) in codes
    _nothing_was_switched(mapping)


def test_the_page_reports_a_wrong_passkey_with_the_tries_left_and_the_throttle_holds(client, synced):  # noqa: F811
    client.force_login(alice())
    url = reverse("continuity:rehearse")
    response = client.post(url, {"passkey": "WRONG-PASS-KEY0", "confirm": "on"})
    assert response.status_code == 400 and "That passkey is not right" in response.text
    assert "4 more tries" in response.text and "WRONG-PASS-KEY0" not in response.text
    assert audit_events().get(action="enablement.passkey_wrong").changes["purpose"] == "rehearsal"
    for _ in range(enablement.THROTTLE_LIMIT - 1):
        client.post(url, {"passkey": "WRONG-PASS-KEY0", "confirm": "on"})
    response = client.post(url, {"passkey": PASSKEY, "confirm": "on"})
    assert response.status_code == 429 and "You can try again at" in response.text
    assert not Drill.objects.exists() and not SyncRun.objects.filter(trigger=SyncRun.Trigger.MANUAL).exists()
    # The same count stops a switch on BC Enablement.
    with pytest.raises(enablement.PasskeyThrottled):
        enablement.tenant_switch(mapping=synced, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY,
                                 actor=Actor(user=alice()))


def test_the_confirmation_is_required_and_the_passkey_is_then_not_tried(client, synced):  # noqa: F811
    client.force_login(alice())
    response = client.post(reverse("continuity:rehearse"), {"passkey": PASSKEY})
    assert response.status_code == 400 and "Confirm the rehearsal: tick the box." in response.text
    assert not PasskeyAttempt.objects.exists() and not Drill.objects.exists()


def test_the_page_starts_a_rehearsal_and_its_record_polls_until_complete(client, synced):  # noqa: F811
    client.force_login(alice())
    response = client.post(reverse("continuity:rehearse"), {"passkey": PASSKEY, "confirm": "on"}, follow=True)
    drill = Drill.objects.get()
    assert response.redirect_chain[-1][0] == reverse("continuity:drill", args=[drill.pk])
    page = response.text
    assert "The rehearsal has started" in page and 'hx-trigger="every 2s"' in page and "In progress" in page
    assert 'data-testid="rehearsal-pending"' in page

    sync_run_execute(run_id=drill.report["sync"]["run_id"])
    rehearsal_complete(drill_id=drill.pk, region=drill._state.db)
    partial = client.get(reverse("continuity:drill", args=[drill.pk]), headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in partial and "<html" not in partial  # the last poll: the page stops asking
    assert ">Passed</span>" in partial and 'data-testid="rpo-after"' in partial
    assert " ms, measured on a dry run of the switch that was rolled back" in partial
    assert 'id="messages"' in partial  # "The rehearsal has started" is replaced, out of band


def test_a_rehearsal_whose_sync_no_worker_takes_says_so_and_does_not_count_as_a_drill(client, synced):  # noqa: F811
    client.force_login(alice())
    client.post(reverse("continuity:rehearse"), {"passkey": PASSKEY, "confirm": "on"})
    drill = Drill.objects.get()
    url = reverse("continuity:drill", args=[drill.pk])
    page = client.get(url).text
    assert ">Queued</span>" in page and 'data-testid="rehearsal-queued"' not in page
    SyncRun.objects.using(BACKUP).filter(pk=drill.report["sync"]["run_id"]).update(
        queued_at=timezone.now() - timedelta(minutes=5))
    page = client.get(url).text
    assert 'data-testid="rehearsal-queued"' in page and "not started yet" in page
    # Waiting for its sync, it has validated nothing: the schedule still counts from before it.
    assert drill_schedule(tenant=synced.primary).last_drill is None


# --- with a real worker ------------------------------------------------------------------------------------


@pytest.fixture
def worker_queue():
    """The sync's and the rehearsal's tasks go to a queue of the test's own on the real broker, so that another
    worker on the same Redis can neither take them nor hand the test anything."""
    if not settings.REDIS_URL:
        pytest.skip("runs a worker on the real broker (REDIS_URL); CI sets it and fails on a skip")
    queue = f"bcp-rehearsal-{uuid.uuid4().hex[:12]}"
    original = app.conf.task_routes
    app.conf.task_routes = {"sync.run": {"queue": queue}, "continuity.rehearsal_complete": {"queue": queue}}
    forget_routing()
    try:
        yield queue
    finally:
        if not app.conf.broker_url.startswith("filesystem"):
            with app.connection_for_write() as conn:
                bound = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
                bound.declare()
                bound.delete()
        app.conf.task_routes = original
        forget_routing()


@pytest.fixture
def tasks_done():
    """The worker thread closes its database connection after each task, so none holds on to the test database."""
    done = threading.Event()

    def finished(sender=None, **kwargs):
        # The worker's thread is in no region: the drills are looked for in each.
        if getattr(sender, "name", "") == "continuity.rehearsal_complete" and any(
                Drill.objects.using(alias).exclude(outcome=Drill.Outcome.PENDING).exists()
                for alias in settings.REGION_DATABASES):
            done.set()
        connections.close_all()

    task_postrun.connect(finished, weak=False, dispatch_uid="test_rehearsal.tasks_done")
    try:
        yield done
    finally:
        task_postrun.disconnect(dispatch_uid="test_rehearsal.tasks_done")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_completes_the_rehearsal_and_the_dry_run_left_nothing(synced, worker_queue, tasks_done):  # noqa: F811
    assert app.conf.broker_url.startswith("redis"), "this test runs on the real broker (REDIS_URL)"
    agent = _signed_in()
    admin = Client()
    admin.force_login(alice())
    mail.outbox.clear()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[worker_queue]):
        response = admin.post(reverse("continuity:rehearse"), {"passkey": PASSKEY, "confirm": "on"})
        assert response.status_code == 302
        assert tasks_done.wait(WAIT_SECONDS), "the worker did not complete the rehearsal"
    drill = Drill.objects.get()
    assert drill.outcome == Drill.Outcome.PASSED, drill.report
    assert drill.report["sync"]["status"] == "succeeded" and drill.report["switch"]["ms"] > 0
    assert drill.report["rpo_after_seconds"] is not None
    page = admin.get(reverse("continuity:drill", args=[drill.pk])).text
    assert "RPO after the sync" in page and "hx-trigger" not in page
    # Committed for real this time: still nothing of the dry run anywhere.
    _nothing_was_switched(synced)
    assert mail.outbox == []
    assert agent.get(reverse("accounts:profile")).status_code == 200
    assert list(PasskeyAttempt.objects.values_list("succeeded", flat=True)) == [True]
    assert not Drill.objects.filter(kind=Drill.Kind.SWITCH).exists()


def test_with_the_task_queue_down_a_rehearsal_is_refused_and_changes_nothing(client, synced):  # noqa: F811
    from tests.broker import broker_down

    client.force_login(alice())
    with broker_down():
        response = client.post(reverse("continuity:rehearse"), {"passkey": PASSKEY, "confirm": "on"})
    assert response.status_code == 409 and "The task queue does not answer right now" in response.text
    assert not Drill.objects.exists() and not PasskeyAttempt.objects.exists()
    assert not SyncRun.objects.filter(trigger=SyncRun.Trigger.MANUAL).exists()
    _nothing_was_switched(synced)


def test_a_rehearsal_report_speaks_the_readers_language_and_an_old_one_stays_as_it_was(
        client, configured, sync_enabled, mapping):  # noqa: F811
    drill = drills.rehearse(tenant=mapping.primary, passkey=PASSKEY, actor=Actor(user=alice()))
    sync_run_execute(run_id=drill.report["sync"]["run_id"])
    rehearsal_complete(drill_id=drill.pk, region=drill._state.db)
    reader = alice()
    client.force_login(reader)
    english = client.get(reverse("continuity:drill", args=[drill.pk])).text
    assert "A passkey is set for this pair." in english
    assert "No sync has completed yet, so the BCP tenant holds none of the primary&#x27;s configuration." in english
    reader.language = "de"
    reader.save(update_fields=["language"])
    german = " ".join(client.get(reverse("continuity:drill", args=[drill.pk])).text.split())
    assert "Für dieses Paar ist ein Passkey festgelegt." in german
    assert "Es wurde noch keine Synchronisierung abgeschlossen" in german
    assert "A passkey is set" not in german and "No sync has completed yet" not in german
    # A report stored before the sentences were stored as messages shows the text it has.
    report = drill.report
    for check in report["checks"]:
        check.pop("message")
    for finding in report["findings"]:
        finding.pop("message", None)
    report["switch"].pop("refused_message")
    Drill.objects.using(drill._state.db).filter(pk=drill.pk).update(report=report)
    old = " ".join(client.get(reverse("continuity:drill", args=[drill.pk])).text.split())
    assert "A passkey is set for this pair." in old and "No sync has completed yet" in old
