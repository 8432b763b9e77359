"""A primary (Classics Inc., North America) with a little of every configuration type, mapped to its BCP
tenant (Europe), with sync enabled but no run made yet."""

from datetime import date, time

import pytest

from accounts.roles import ADMINISTRATOR, AGENT, SUPERVISOR
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT
from contactcenter import services as cc
from continuity.models import EmergencyContact, PlanTeam
from continuity.plan import services as plan_services
from continuity.plan.selectors import plan_of
from sync.models import SyncRun
from sync.services import sync_run_execute, sync_run_request
from tests.factories import PASSWORD, role_of
from tests.tenants.bcp_helpers import bcp_tenant_fixture, make_mapping  # noqa: F401

# The backup's region in these tests (bcp_tenant is in Europe): where the pair's runs and correlations live.
BACKUP = "eu"


@pytest.fixture
def mapping(tenant, bcp_tenant):
    mapping, _passkey = make_mapping(tenant, bcp_tenant)
    return mapping


@pytest.fixture
def passkey_mapping(tenant, bcp_tenant):
    return make_mapping(tenant, bcp_tenant)


@pytest.fixture
def configured(tenant, mapping):
    """What a small contact center has, made through the services."""
    admin_role = role_of(tenant, ADMINISTRATOR)
    role_set_permissions(role=admin_role, permissions=[CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT],
                         scope=[CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT], actor=Actor.system())
    team = cc.team_create(tenant=tenant, name="Billing Support", description="Invoices", actor=Actor.system())
    cc.team_create(tenant=tenant, name="Sales", actor=Actor.system())
    phone = cc.skill_create(tenant=tenant, name="Billing Inquiries", channel="phone", actor=Actor.system())
    chat = cc.skill_create(tenant=tenant, name="Web Chat", channel="chat", actor=Actor.system())
    hours = cc.hours_create(tenant=tenant, name="Business Hours", timezone="America/New_York",
                            exceptions=[{"date": date(2026, 12, 25), "name": "Christmas Day", "closed": True}],
                            actor=Actor.system())
    cc.hours_create(tenant=tenant, name="Weekend", week={d: (time(10), time(14)) if d >= 5 else None for d in range(7)},
                    actor=Actor.system())
    cc.point_of_contact_create(tenant=tenant, name="Billing Line", channel="phone", address="+14155550100",
                               skill=phone, hours=hours, actor=Actor.system())
    cc.point_of_contact_create(tenant=tenant, name="Website Chat", channel="chat", address="web-chat",
                               skill=chat, hours=hours, actor=Actor.system())
    cc.disposition_create(tenant=tenant, name="Resolved", skills=[phone, chat], actor=Actor.system())
    cc.unavailable_code_create(tenant=tenant, name="Lunch", actor=Actor.system())
    cc.tag_create(tenant=tenant, name="VIP", description="Important customer", actor=Actor.system())
    cc.agent_create(tenant=tenant, username="alice", password=PASSWORD, role=admin_role, first_name="Alice",
                    last_name="Admin", email="alice@classics.example.com", team=team, actor=Actor.system())
    cc.agent_create(tenant=tenant, username="andy", password=PASSWORD, role=role_of(tenant, AGENT),
                    first_name="Andy", team=team, skills={phone: 1, chat: 5}, actor=Actor.system())
    cc.agent_create(tenant=tenant, username="sam", password=PASSWORD, role=role_of(tenant, SUPERVISOR),
                    actor=Actor.system())
    # The continuity plan syncs too: the starter plan and a contact linked to one of its teams.
    if plan_of(tenant=tenant) is None:
        plan_services.plan_start(tenant=tenant, actor=Actor.system())
    plan_services.section_item_create(
        tenant=tenant, section_key=EmergencyContact.ENTITY_TYPE, actor=Actor.system(),
        values={"name": "Dana Duty", "phone": "+14155550199", "team": PlanTeam.objects.get(tenant=tenant, position=1)})
    return tenant


@pytest.fixture
def small(tenant, mapping):
    """A little contact-center configuration and no continuity plan, for the tests that commit (transactional):
    the plan's services need a transaction on the control plane that those tests do not give them."""
    team = cc.team_create(tenant=tenant, name="Billing Support", actor=Actor.system())
    skill = cc.skill_create(tenant=tenant, name="Billing Inquiries", channel="phone", actor=Actor.system())
    cc.tag_create(tenant=tenant, name="VIP", actor=Actor.system())
    cc.agent_create(tenant=tenant, username="andy", password=PASSWORD, role=role_of(tenant, AGENT),
                    first_name="Andy", team=team, skills={skill: 3}, actor=Actor.system())
    return tenant


@pytest.fixture
def sync_enabled(configured, mapping):
    from sync.models import SyncConfiguration

    config, _ = SyncConfiguration.objects.get_or_create(mapping=mapping)
    from django.utils import timezone

    now = timezone.now()
    SyncConfiguration.objects.filter(pk=config.pk).update(enabled=True, anchor_at=now, next_run_at=now)
    config.refresh_from_db()
    return config


def run_sync(tenant, **kwargs) -> SyncRun:
    """One run in this process, as the bcp_sync command does it; or, when a run is queued already (a switch back
    queues one), that run, as a worker takes it."""
    from tenants.models import BcpMapping

    mapping = BcpMapping.objects.filter(primary_id=tenant.pk).first()
    waiting = mapping and not kwargs and SyncRun.objects.filter(mapping=mapping, status=SyncRun.Status.QUEUED).first()
    run = waiting or sync_run_request(tenant=tenant, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND,
                                      enqueue=False, **kwargs)
    sync_run_execute(run_id=run.pk, region=run._state.db)
    run.refresh_from_db()
    return run
