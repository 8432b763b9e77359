"""tenants announces a new tenant with tenants.signals.tenant_created; accounts, above it, gives it its roles."""

import pytest
from django.db import connection

from audit.services import Actor
from tenants.models import Tenant
from tenants.services import tenant_create
from tenants.signals import tenant_created

pytestmark = pytest.mark.django_db


def test_accounts_gives_a_new_tenant_its_default_roles(region_na):
    tenant = tenant_create(name="Fabrikam", region=region_na, actor=Actor.system())
    assert sorted(tenant.roles.values_list("name", flat=True)) == ["Administrator", "Agent", "Supervisor"]


@pytest.mark.django_db(transaction=True)
def test_the_signal_is_sent_inside_the_creation_and_a_failing_receiver_undoes_it(region_na):
    seen = []

    def receiver(sender, tenant, **kwargs):
        seen.append((Tenant.objects.filter(pk=tenant.pk).exists(), connection.in_atomic_block))
        raise RuntimeError("a receiver failed")

    tenant_created.connect(receiver, dispatch_uid="test-failing-receiver")
    try:
        with pytest.raises(RuntimeError):
            tenant_create(name="Fabrikam", region=region_na, actor=Actor.system())
    finally:
        tenant_created.disconnect(dispatch_uid="test-failing-receiver")
    assert seen == [(True, True)]
    assert not Tenant.objects.filter(name="Fabrikam").exists()
