"""Every real switch and revert is a Switch row, written with the flip; the switches audited before that are
filled in by a migration; continuity reads them through the selectors."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction

from accounts.models import User
from audit.services import Actor, audit_record
from enablement import selectors, services
from enablement.models import Switch
from tenants.bcp.services import mapping_remove
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.enablement.conftest import PASSKEY
from tests.factories import TenantFactory

BCP, PRIMARY = BcpMapping.Side.SECONDARY, BcpMapping.Side.PRIMARY

switches_from_audit = importlib.import_module("enablement.migrations.0005_switches_from_audit").switches_from_audit


def alice():
    return User.objects.get(username="alice", is_bcp_copy=False)


def test_a_switch_and_its_revert_are_recorded_with_the_flip(synced):
    actor = Actor(user=alice(), acting_as="", ip_address="10.0.0.7")
    services.tenant_switch(mapping=synced, to_side=BCP, passkey=PASSKEY, actor=actor, force=True,
                           reason="  Carrier outage  ", on_behalf=True)
    copy = User.objects.get(username="alice", is_bcp_copy=True)
    services.tenant_switch(mapping=synced, to_side=PRIMARY, passkey=PASSKEY, actor=Actor(user=copy))

    there, back = Switch.objects.order_by("pk")
    event = audit_events().filter(action="enablement.switch").order_by("pk").first()
    assert (there.mapping, there.primary, there.from_side, there.to_side) == (synced, synced.primary, PRIMARY, BCP)
    assert (there.by, there.by_name, there.on_behalf, there.ip_address) == (alice(), "alice", True, "10.0.0.7")
    assert (there.reason, there.routing_epoch, there.audit_event, there.at) == ("Carrier outage", 1, event,
                                                                                event.created_at)
    assert there.switched_anyway == event.changes["switched_anyway"]
    assert (back.from_side, back.to_side, back.by, back.routing_epoch) == (BCP, PRIMARY, copy, 2)

    assert selectors.switch_ended_by(revert=back) == there
    assert selectors.switch_ended_by(revert=there) is None  # a switch to the BCP tenant ends nothing
    assert selectors.switch_revert_of(switch=there) == back
    assert list(selectors.switches_to_bcp()) == [there]


def test_a_refused_or_unchanged_switch_and_a_rolled_back_one_leave_no_record(synced):
    with pytest.raises(services.PasskeyWrong):
        services.tenant_switch(mapping=synced, to_side=BCP, passkey="nope", actor=Actor(user=alice()))
    assert not services.tenant_switch(mapping=synced, to_side=PRIMARY, passkey=PASSKEY,
                                      actor=Actor(user=alice())).changed
    with pytest.raises(RuntimeError), transaction.atomic():
        services.tenant_switch(mapping=synced, to_side=BCP, passkey=PASSKEY, actor=Actor(user=alice()))
        raise RuntimeError("rolled back")
    assert not Switch.objects.exists()


def _audited_switch(mapping, *, to_side, epoch, by, **changes):
    """An audit row exactly as tenant_switch wrote it before Switch rows existed."""
    return audit_record(action="enablement.switch", by=by, tenant=mapping.primary, obj=mapping, changes={
        "from": PRIMARY if to_side == BCP else BCP, "to": to_side, "routing_epoch": epoch, "on_behalf": False,
        "switched_anyway": [], "reason": "", **changes})


def test_the_migration_records_the_switches_the_audit_log_holds(mapping, tenant_admin, rep, region_na, region_eu):
    there = _audited_switch(mapping, to_side=BCP, epoch=1, by=Actor(user=rep, acting_as="Support",
                                                                     ip_address="10.1.1.1"),
                            on_behalf=True, switched_anyway=["sync_fresh"], reason="Region down")
    back = _audited_switch(mapping, to_side=PRIMARY, epoch=2, by=Actor(user=tenant_admin))
    # A pair removed since: its switches keep their primary, without the pair.
    gone, _bcp = TenantFactory(name="Gone Inc.", region=region_na), TenantFactory(name="Gone BCP", region=region_eu)
    from tests.tenants.bcp_helpers import make_mapping

    removed, _passkey = make_mapping(gone, _bcp)
    old = _audited_switch(removed, to_side=BCP, epoch=1, by=Actor(user=rep))
    mapping_remove(mapping=removed, actor=Actor.system())
    audit_events().filter(pk=old.pk).update(created_at=there.created_at - timedelta(days=3))
    audit_record(action="enablement.passkey_wrong", by=Actor(user=rep), tenant=mapping.primary, obj=mapping,
                 changes={"purpose": "switch"})  # not a switch

    switches_from_audit(apps, None)

    first, second, third = Switch.objects.order_by("pk")
    assert (first.audit_event_id, first.mapping, first.primary, first.to_side) == (old.pk, None, gone, BCP)
    assert (second.audit_event_id, second.mapping, second.primary) == (there.pk, mapping, mapping.primary)
    assert (second.from_side, second.to_side, second.routing_epoch, second.at) == (PRIMARY, BCP, 1,
                                                                                   there.created_at)
    assert (second.by, second.by_name, second.acting_as, second.ip_address) == (rep, rep.username, "Support",
                                                                                "10.1.1.1")
    assert (second.on_behalf, second.switched_anyway, second.reason) == (True, ["sync_fresh"], "Region down")
    assert (third.audit_event_id, third.to_side, third.by, third.routing_epoch) == (back.pk, PRIMARY,
                                                                                    tenant_admin, 2)
    assert selectors.switch_ended_by(revert=third) == second
    assert selectors.switch_revert_of(switch=first) is None

    switches_from_audit(apps, None)  # again: nothing more
    assert Switch.objects.count() == 3
