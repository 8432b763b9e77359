"""Classics Inc. mapped to Classics Inc. BCP with a known passkey, configured, synced once, BCP turned on for the
BCP tenant: ready to switch."""

import pytest
from django.utils import timezone

from tests.caches import clear_routing_cache
from tests.sync.conftest import configured, run_sync, sync_enabled  # noqa: F401
from tests.tenants.bcp_helpers import bcp_tenant_fixture, make_mapping  # noqa: F401

PASSKEY = "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345"


@pytest.fixture(autouse=True)
def _fresh_routing_cache():
    clear_routing_cache()
    yield
    clear_routing_cache()


@pytest.fixture
def mapping(tenant, bcp_tenant):
    mapping, _passkey = make_mapping(tenant, bcp_tenant, passkey=PASSKEY)
    mapping.secondary_enabled_at = timezone.now()
    mapping.save(update_fields=["secondary_enabled_at"])
    return mapping


@pytest.fixture
def synced(configured, sync_enabled, mapping):  # noqa: F811
    run = run_sync(configured)
    assert run.status == "succeeded", run.errors
    mapping.refresh_from_db()
    return mapping
