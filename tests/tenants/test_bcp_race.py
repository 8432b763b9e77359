"""Two representatives map the same DR tenant at the same moment: the database lets exactly one through.

Runs on PostgreSQL in CI and on SQLite locally. On PostgreSQL both threads pass validation before either
inserts, so the unique constraints decide; SQLite serialises writers, so there the second one's
validation sees the first one's mapping. Either way the loser gets a readable ApplicationError.
"""

import threading
import time
from unittest import mock

import pytest
from django.db import OperationalError, close_old_connections, connection

from audit.services import Actor
from bcp_project.exceptions import ApplicationError
from tenants.bcp import services as bcp_services
from tenants.bcp.services import mapping_create, passkey_generate, passkey_hash
from tenants.models import BcpMapping, BcpMembership
from tests.factories import RegionFactory, TenantFactory

real_validate = bcp_services.mapping_validate


def race(calls):
    """Run each call in its own thread; both validate, then meet, then insert."""
    start = threading.Barrier(len(calls))
    validated = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def validate_then_wait(**kwargs):
        problems = real_validate(**kwargs)
        try:
            # Where writers are serialised (SQLite) the other thread cannot get here until we commit.
            validated.wait(timeout=2 if connection.vendor == "sqlite" else 20)
        except threading.BrokenBarrierError:
            pass
        return problems

    def run(index, call):
        close_old_connections()
        try:
            start.wait(timeout=20)
            outcomes[index] = call_waiting_for_sqlite(call)
        except ApplicationError as exc:
            outcomes[index] = exc
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[index] = exc
        finally:
            close_old_connections()
            from django.db import connections

            connections.close_all()

    with mock.patch.object(bcp_services, "mapping_validate", side_effect=validate_then_wait):
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def call_waiting_for_sqlite(call):
    """A file SQLite database waits for the writer ahead (busy timeout); the tests' shared in-memory one
    answers "table is locked" at once instead, so wait here the way the real database would."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return call()
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def create(primary, secondary):
    hashed = passkey_hash(passkey_generate())
    return lambda: mapping_create(primary=primary, secondary=secondary, region=secondary.region, passkey_hash=hashed,
                                  configurations_enabled=True, enablement_enabled=True, actor=Actor.system())


@pytest.mark.django_db(transaction=True)
def test_two_representatives_map_the_same_dr_tenant_at_once(region_na, region_eu):
    first = TenantFactory(name="Classics Inc.", region=region_na)
    second = TenantFactory(name="Wingtip Toys", region=region_na)
    backup = TenantFactory(name="Shared BCP", region=region_eu)

    outcomes = race([create(first, backup), create(second, backup)])

    mappings = [o for o in outcomes if isinstance(o, BcpMapping)]
    errors = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(mappings) == 1 and len(errors) == 1, outcomes
    assert "Shared BCP" in errors[0].message
    if connection.vendor == "postgresql":
        assert "mapped by someone else a moment ago" in errors[0].message, "the constraint decided, not validation"
    assert BcpMapping.objects.count() == 1
    winner = BcpMapping.objects.get()
    assert set(BcpMembership.objects.values_list("tenant_id", flat=True)) == {winner.primary_id, backup.pk}


@pytest.mark.django_db(transaction=True)
def test_one_tenant_cannot_become_primary_and_backup_at_once(region_na, region_eu):
    """One representative makes X the backup of A while another makes X the primary of B."""
    apac = RegionFactory(name="Asia Pacific", code="apac")
    a = TenantFactory(name="Alpha", region=region_na)
    x = TenantFactory(name="Xeno", region=region_eu)
    b = TenantFactory(name="Beta backup", region=apac)

    outcomes = race([create(a, x), create(x, b)])

    assert sum(isinstance(o, BcpMapping) for o in outcomes) == 1, outcomes
    errors = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(errors) == 1, outcomes
    if connection.vendor == "postgresql":
        assert "mapped by someone else a moment ago" in errors[0].message
    assert BcpMapping.objects.count() == 1 and BcpMembership.objects.filter(tenant=x).count() == 1
