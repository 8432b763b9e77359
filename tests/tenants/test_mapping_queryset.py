"""BcpMapping's own reads: the pair of a tenant, which side is active, and the locks a switch and a sync take."""

import pytest

from tenants.models import BcpMapping
from tests.tenants.bcp_helpers import bcp_tenant_fixture, make_mapping  # noqa: F401

pytestmark = pytest.mark.django_db
BCP, PRIMARY = BcpMapping.Side.SECONDARY, BcpMapping.Side.PRIMARY


@pytest.fixture
def pair(tenant, bcp_tenant):
    return make_mapping(tenant, bcp_tenant)[0]


def test_of_tenant_finds_the_pair_from_either_side_or_from_one(pair, tenant, bcp_tenant, other_tenant):
    pairs = BcpMapping.objects
    assert list(pairs.of_tenant(tenant)) == list(pairs.of_tenant(bcp_tenant)) == [pair]
    assert list(pairs.of_tenant(tenant.pk)) == [pair]
    assert list(pairs.of_tenant(tenant, side=PRIMARY)) == [pair]
    assert not pairs.of_tenant(tenant, side=BCP).exists()
    assert list(pairs.of_tenant(bcp_tenant, side=BCP)) == [pair]
    assert not pairs.of_tenant(bcp_tenant, side=PRIMARY).exists()
    assert not pairs.of_tenant(other_tenant).exists()
    with pytest.raises(ValueError):
        pairs.of_tenant(tenant, side="backup")


def test_the_active_tenant_follows_the_active_side(pair, tenant, bcp_tenant):
    assert (pair.active_tenant, pair.inactive_tenant, pair.active_tenant_id) == (tenant, bcp_tenant, tenant.pk)
    pair.active_side = BCP
    assert (pair.active_tenant, pair.inactive_tenant, pair.active_tenant_id) == (bcp_tenant, tenant, bcp_tenant.pk)


def _as_postgresql_runs_it(queryset) -> str:
    """The SQL PostgreSQL would be sent (compiled only: no server, and no connection is opened)."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    settings = {"ENGINE": "django.db.backends.postgresql", "NAME": "compile-only", "USER": "", "PASSWORD": "",
                "HOST": "", "PORT": "", "OPTIONS": {}, "TIME_ZONE": None, "CONN_MAX_AGE": 0,
                "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "TEST": {}}
    postgresql = DatabaseWrapper(settings, alias="compile-only")
    postgresql.connection, postgresql.autocommit = object(), False  # "inside a transaction", as the callers are
    try:
        return queryset.query.get_compiler(connection=postgresql).as_sql()[0]
    finally:
        postgresql.connection = None


def test_a_switch_locks_only_the_pair(pair):
    """FOR UPDATE of the pair's own row, not of the tenants a select_related joins."""
    switch = BcpMapping.objects.locked().select_related("primary", "secondary").filter(pk=pair.pk)
    assert _as_postgresql_runs_it(switch).endswith(' FOR UPDATE OF "tenants_bcpmapping"')
