"""With the task queue (the broker) down: Sync now and Enable Sync keep what they saved and say the run starts
when the queue is back, never a 500; a retry does not claim a sync is running; the dispatcher sends the run once
the queue answers again. The transactions really commit here, so the hand-over to the queue really happens."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import SyncConfiguration, SyncRun
from sync.services import REQUEUE_AFTER, sync_dispatch
from tests.auditlog import audit_events
from tests.broker import broker_down
from tests.sync.conftest import BACKUP
from tests.sync.test_pages import enabled, primary, roles  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

BACK = "the run will start when the task queue is back"


def test_sync_now_with_the_broker_down_keeps_the_run_and_says_so(client, tenant_admin, enabled):  # noqa: F811
    client.force_login(tenant_admin)
    with broker_down():
        response = client.post(reverse("sync:run"), follow=True)
        assert response.status_code == 200 and BACK in response.text
        run = SyncRun.objects.using(BACKUP).get(status=SyncRun.Status.QUEUED)
        assert audit_events().filter(action="sync.run_request").exists()
        # A retry says what is true: the run waits to start; nothing is running.
        retry = client.post(reverse("sync:run"))
        assert retry.status_code == 409 and "already waiting to start" in retry.text
        assert "already running" not in retry.text
        assert SyncRun.objects.using(BACKUP).filter(status=SyncRun.Status.QUEUED).count() == 1
    # The queue is back: the dispatcher sends the run that never reached a worker.
    dispatched = sync_dispatch(now=timezone.now() + REQUEUE_AFTER + timedelta(seconds=1))
    assert run.pk in dispatched.requeued


def test_enable_sync_with_the_broker_down_enables_it_and_says_so(client, tenant_admin, primary):  # noqa: F811
    client.force_login(tenant_admin)
    with broker_down():
        response = client.post(reverse("sync:enable"), follow=True)
    assert response.status_code == 200 and BACK in response.text and "Sync is enabled" in response.text
    assert SyncConfiguration.objects.get(mapping__primary=primary).enabled
    assert SyncRun.objects.using(BACKUP).get().trigger == SyncRun.Trigger.FIRST
    assert audit_events().filter(action="sync.enable").exists()
