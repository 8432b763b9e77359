"""tenant_switch: the passkey and its throttle, the readiness gate, the flip, the audit and the emails."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections

from accounts.models import User
from audit.services import Actor
from enablement import services
from enablement.models import PasskeyAttempt
from sync.models import SyncRun
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.enablement.conftest import PASSKEY

BCP, PRIMARY = BcpMapping.Side.SECONDARY, BcpMapping.Side.PRIMARY


def alice():
    return User.objects.get(username="alice", is_bcp_copy=False)


def switch(mapping, to_side=BCP, passkey=PASSKEY, **kwargs):
    return services.tenant_switch(mapping=mapping, to_side=to_side, passkey=passkey,
                                  actor=kwargs.pop("actor", None) or Actor(user=alice()), **kwargs)


def test_the_right_passkey_switches_and_everyone_hears_of_it(synced, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = switch(synced, passkey=PASSKEY.lower().replace("-", " "))
    synced.refresh_from_db()
    assert result.changed and synced.active_side == BCP and synced.routing_epoch == 1
    assert synced.switched_by == alice() and synced.active_since is not None
    event = audit_events().get(action="enablement.switch")
    assert event.actor == alice() and event.changes["to"] == BCP and event.changes["on_behalf"] is False
    # Alice holds BCP Tenant Enablement Edit on both tenants (her role was synced): one email to her.
    assert [m.to for m in mail.outbox] == [["alice@classics.example.com"]]
    assert mail.outbox[0].subject == "Classics Inc. switched to its BCP tenant"
    assert "Classics Inc. BCP" in mail.outbox[0].body
    assert " Alice Admin made “Classics Inc. BCP” the active tenant" in mail.outbox[0].body  # her name, not "alice"


def test_submitting_the_state_in_force_changes_nothing_and_says_so(synced):
    result = switch(synced, to_side=PRIMARY)
    synced.refresh_from_db()
    assert not result.changed and synced.routing_epoch == 0 and synced.active_side == PRIMARY
    assert not audit_events().filter(action="enablement.switch").exists()


def test_a_wrong_passkey_changes_nothing_and_is_audited(synced):
    with pytest.raises(services.PasskeyWrong) as wrong:
        switch(synced, passkey="WRONG-PASS-KEY0")
    assert "4 more tries" in wrong.value.message
    synced.refresh_from_db()
    assert synced.active_side == PRIMARY and synced.routing_epoch == 0
    assert audit_events().filter(action="enablement.passkey_wrong", actor=alice()).count() == 1
    assert PasskeyAttempt.objects.filter(user=alice(), succeeded=False).count() == 1


def test_five_wrong_passkeys_refuse_even_the_right_one_until_the_window_passes(synced):
    for _ in range(services.THROTTLE_LIMIT):
        with pytest.raises(services.PasskeyWrong):
            switch(synced, passkey="nope")
    with pytest.raises(services.PasskeyThrottled) as throttled:
        switch(synced)
    assert "try again at" in throttled.value.message
    synced.refresh_from_db()
    assert synced.active_side == PRIMARY
    assert audit_events().filter(action="enablement.passkey_throttled").count() == 1
    # Another person of the same tenant is not throttled by Alice's mistakes.
    sam = User.objects.get(username="sam", is_bcp_copy=False)
    with pytest.raises(services.PasskeyWrong):
        switch(synced, passkey="nope", actor=Actor(user=sam))
    # Fifteen minutes later the right passkey works again.
    PasskeyAttempt.objects.filter(user=alice()).update(at=synced.updated_at - services.THROTTLE_WINDOW
                                                       - timedelta(seconds=1))
    assert switch(synced).changed


def test_a_bcp_tenant_that_never_completed_a_sync_is_refused(configured, sync_enabled, mapping):
    with pytest.raises(services.SwitchRefused) as refused:
        switch(mapping)
    assert "No sync has completed" in refused.value.message
    mapping.refresh_from_db()
    assert mapping.active_side == PRIMARY


def test_a_stale_sync_needs_switch_anyway_with_a_reason_which_is_audited(synced):
    SyncRun.objects.filter(mapping=synced).update(finished_at=synced.updated_at - timedelta(days=3),
                                                  started_at=synced.updated_at - timedelta(days=3))
    with pytest.raises(services.NeedsReason) as needs:
        switch(synced)
    assert [check.key for check in needs.value.checks] == ["sync_fresh"]
    with pytest.raises(services.NeedsReason):
        switch(synced, force=True, reason="  ")
    assert switch(synced, force=True, reason="Primary region is down").changed
    event = audit_events().get(action="enablement.switch")
    assert event.changes["switched_anyway"] == ["sync_fresh"] and event.changes["reason"] == "Primary region is down"


def test_a_running_sync_needs_a_reason_too(synced):
    SyncRun.objects.create(mapping=synced, status=SyncRun.Status.RUNNING, trigger=SyncRun.Trigger.MANUAL)
    with pytest.raises(services.NeedsReason) as needs:
        switch(synced)
    assert "sync_idle" in [check.key for check in needs.value.checks]


def test_reverting_works_from_the_bcp_side_without_the_gate(synced):
    switch(synced)
    SyncRun.objects.filter(mapping=synced).delete()  # even with no sync at all, going back is allowed
    copy = User.objects.get(username="alice", is_bcp_copy=True)
    assert switch(synced, to_side=PRIMARY, actor=Actor(user=copy)).changed
    synced.refresh_from_db()
    assert synced.active_side == PRIMARY and synced.routing_epoch == 2 and synced.switched_by == copy


def test_a_representative_switches_on_the_customers_behalf(synced, rep):
    switch(synced, actor=Actor(user=rep), on_behalf=True)
    assert audit_events().get(action="enablement.switch").changes["on_behalf"] is True


def test_a_sync_stops_before_its_next_write_once_the_bcp_tenant_is_active(synced, configured):
    from contactcenter import services as cc
    from tests.enablement.conftest import run_sync

    for n in range(5):
        cc.tag_create(tenant=configured, name=f"Late {n}", actor=Actor.system())
    calls = []

    def switch_during_the_run(run):
        calls.append(run.current_type)
        if len(calls) == 2:  # inside the run, after it has started writing
            BcpMapping.objects.filter(pk=synced.pk).update(active_side=BCP)

    run = SyncRun.objects.create(mapping=synced, trigger=SyncRun.Trigger.MANUAL)
    from sync.services import sync_run_execute

    sync_run_execute(run_id=run.pk, on_progress=switch_during_the_run)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SKIPPED and run.skip_reason == "switched"
    assert run_sync  # the fixture module's helper is importable for the PostgreSQL test below


@pytest.mark.django_db(transaction=True)
def test_two_administrators_at_once_make_one_switch(synced):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks between two connections; CI runs it there")
    barrier, results, errors = threading.Barrier(2), [], []

    def submit():
        try:
            barrier.wait(5)
            results.append(switch(BcpMapping.objects.get(pk=synced.pk)).changed)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [False, True]
    synced.refresh_from_db()
    assert synced.routing_epoch == 1 and audit_events().filter(action="enablement.switch").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_throttle_survives_a_restart(synced):
    """Five wrong passkeys in this process; a new process (a restarted web server) still refuses the right one."""
    if connection.vendor != "postgresql":
        pytest.skip("a second process needs a database it can share; CI runs it on PostgreSQL")
    import os
    import subprocess
    import sys

    for _ in range(services.THROTTLE_LIMIT):
        with pytest.raises(services.PasskeyWrong):
            switch(synced, passkey="nope")
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bcp_project.settings_test",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    script = (
        "from accounts.models import User; from audit.services import Actor; from enablement import services; "
        "from tenants.models import BcpMapping\n"
        "try:\n"
        f"    services.tenant_switch(mapping=BcpMapping.objects.get(pk={synced.pk}), to_side='secondary', "
        f"passkey='{PASSKEY}', actor=Actor(user=User.objects.get(username='alice', is_bcp_copy=False)))\n"
        "    print('SWITCHED')\n"
        "except services.PasskeyThrottled as exc:\n"
        "    print('THROTTLED', exc.retry_at.isoformat())\n"
    )
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], env=env, capture_output=True,
                            text=True, timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert result.stdout.strip().splitlines()[-1].startswith("THROTTLED"), result.stdout + result.stderr
    synced.refresh_from_db()
    assert synced.active_side == PRIMARY


def test_status_subscribers_hear_of_every_switch(synced, django_capture_on_commit_callbacks):
    from status.services import status_subscription_set

    sam = User.objects.get(username="sam", is_bcp_copy=False)
    User.objects.filter(pk=sam.pk).update(email="sam@classics.example.com")
    sam.refresh_from_db()
    status_subscription_set(user=sam, subscribed=True, actor=Actor(user=sam))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        switch(synced)
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@classics.example.com", "sam@classics.example.com"]
