"""Continuity plan fixtures others reuse: Classics Inc. with its plan started, its administrator's and an agent's
browser, an administrator of another tenant and an account representative (these two from tests/conftest.py)."""

import pytest
from django.test import Client

from audit.services import Actor


@pytest.fixture
def tenant(tenant):
    """Classics Inc. with the starter plan (version 1), made by the system."""
    from continuity.plan.services import plan_start

    plan_start(tenant=tenant, actor=Actor.system())
    return tenant


@pytest.fixture
def planless_tenant(region_na):
    """A tenant nobody has started a plan for."""
    from tests.factories import TenantFactory

    return TenantFactory(name="Fresh Start Ltd.", region=region_na)


@pytest.fixture
def plan(tenant):
    from continuity.models import Plan

    return Plan.objects.get(tenant=tenant)


@pytest.fixture
def plan_admin(client, tenant_admin):
    """A client signed in as Classics Inc.'s administrator (Continuity Plan: Edit)."""
    client.force_login(tenant_admin)
    return client


@pytest.fixture
def agent_client(agent):
    """A second client, signed in as an agent of Classics Inc. (reads the plan, cannot change it)."""
    browser = Client()
    browser.force_login(agent)
    return browser


@pytest.fixture
def admin_actor(tenant_admin):
    return Actor(user=tenant_admin)
