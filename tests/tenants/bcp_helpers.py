"""Shared set-up for the BCP tests: a primary in North America, its BCP tenant in Europe."""

import pytest

from audit.services import Actor
from tenants.bcp.services import mapping_create, passkey_generate, passkey_hash
from tests.factories import TenantFactory


@pytest.fixture(name="bcp_tenant")
def bcp_tenant_fixture(region_eu):
    return TenantFactory(name="Classics Inc. BCP", region=region_eu)


def make_mapping(primary, secondary, *, passkey=None, actor=None):
    passkey = passkey or passkey_generate()
    mapping = mapping_create(primary=primary, secondary=secondary, region=secondary.region,
                             passkey_hash=passkey_hash(passkey), configurations_enabled=True,
                             enablement_enabled=True, actor=actor or Actor.system())
    return mapping, passkey
