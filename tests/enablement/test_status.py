"""Platform status and the outage: the service rules, the emails, the TM pages and Status alerts for every
persona, and the outage page that stands in for every page of a tenant in outage."""

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import Actor
from enablement.models import PlatformStatus, StatusLevel, StatusSubscription
from enablement.status import (
    StatusError,
    effective_status,
    effective_status_by_tenant_id,
    platform_status_set,
    status_subscription_set,
    subscriber_emails,
)
from tests.factories import TenantFactory, UserFactory

OPERATIONAL, DEGRADED, OUTAGE = StatusLevel.OPERATIONAL, StatusLevel.DEGRADED, StatusLevel.OUTAGE


@pytest.fixture
def by(rep):
    return Actor(user=rep)


def subscribe(*users):
    for user in users:
        status_subscription_set(user=user, subscribed=True, actor=Actor(user=user))


def set_status(by, *, level, message="", region=None, tenant=None):
    return platform_status_set(region=region, tenant=tenant, level=level, message=message, actor=by)


# --- the rules -------------------------------------------------------------------------------------------


def test_a_tenant_with_no_status_set_is_operational(tenant):
    status = effective_status(tenant=tenant)
    assert status.level == OPERATIONAL and status.source == "" and status.message == ""


def test_a_tenant_is_as_well_as_the_worse_of_its_own_status_and_its_regions(by, tenant, region_na):
    set_status(by, region=region_na, level=DEGRADED, message="Calls are slow in North America.")
    assert effective_status(tenant=tenant).level == DEGRADED
    assert effective_status(tenant=tenant).source == "region"
    set_status(by, tenant=tenant, level=OUTAGE, message="Classics Inc. cannot take calls.")
    status = effective_status(tenant=tenant)
    assert (status.level, status.source, status.message) == (OUTAGE, "tenant", "Classics Inc. cannot take calls.")
    set_status(by, tenant=tenant, level=OPERATIONAL)
    status = effective_status(tenant=tenant)
    assert (status.level, status.source) == (DEGRADED, "region")


def test_on_a_tie_the_tenants_own_message_is_the_one_shown(by, tenant, region_na):
    set_status(by, region=region_na, level=OUTAGE, message="Region down.")
    set_status(by, tenant=tenant, level=OUTAGE, message="Tenant down.")
    assert effective_status(tenant=tenant).message == "Tenant down."


def test_another_regions_status_does_not_touch_the_tenant(by, tenant, region_eu):
    set_status(by, region=region_eu, level=OUTAGE, message="Europe is down.")
    assert effective_status(tenant=tenant).level == OPERATIONAL


def test_the_effective_status_costs_one_query(by, tenant, region_na, django_assert_num_queries):
    set_status(by, region=region_na, level=DEGRADED, message="Slow.")
    set_status(by, tenant=tenant, level=OUTAGE, message="Down.")
    with django_assert_num_queries(1):
        assert effective_status(tenant=tenant).level == OUTAGE
    with django_assert_num_queries(1):
        assert effective_status_by_tenant_id(tenant_id=tenant.pk).level == OUTAGE


def test_setting_a_status_is_audited_with_what_changed(by, tenant, region_na):
    change = set_status(by, tenant=tenant, level=OUTAGE, message="Down.")
    assert change.changed
    event = AuditEvent.objects.get(action="platform_status.set")
    assert event.actor == by.user and event.tenant == tenant
    assert event.changes == {"level": ["operational", "outage"], "message": ["", "Down."]}
    set_status(by, region=region_na, level=DEGRADED, message="Slow.")
    event = AuditEvent.objects.filter(action="platform_status.set").first()
    assert event.tenant is None and event.changes["region"] == "na"
    row = PlatformStatus.objects.get(region=region_na)
    assert row.updated_by == by.user and row.level == DEGRADED


def test_the_status_already_in_force_changes_nothing(by, tenant):
    set_status(by, tenant=tenant, level=OUTAGE, message="Down.")
    row = PlatformStatus.objects.get(tenant=tenant)
    mail.outbox.clear()
    change = set_status(by, tenant=tenant, level=OUTAGE, message="  Down.  ")
    assert not change.changed and change.notified == 0
    assert PlatformStatus.objects.get(tenant=tenant).updated_at == row.updated_at
    assert AuditEvent.objects.filter(action="platform_status.set").count() == 1
    assert mail.outbox == []


def test_operational_where_nothing_was_ever_set_writes_no_row(by, tenant):
    change = set_status(by, tenant=tenant, level=OPERATIONAL)
    assert not change.changed
    assert not PlatformStatus.objects.exists() and not AuditEvent.objects.filter(action="platform_status.set").exists()


@pytest.mark.parametrize(("level", "message", "field", "words"), [
    ("broken", "Down.", "level", "Choose Operational, Degraded or Outage."),
    (DEGRADED, "", "message", "Say what is happening"),
    (OUTAGE, "   \n ", "message", "Say what is happening"),
    (OUTAGE, "x" * 501, "message", "Keep the message to 500 characters; it has 501."),
])
def test_bad_input_is_refused_with_a_sentence_and_changes_nothing(by, tenant, level, message, field, words):
    with pytest.raises(StatusError) as raised:
        set_status(by, tenant=tenant, level=level, message=message)
    assert raised.value.field == field and words in raised.value.message
    assert not PlatformStatus.objects.exists() and not AuditEvent.objects.filter(action="platform_status.set").exists()


def test_a_status_names_a_region_or_a_tenant_never_both(by, tenant, region_na):
    with pytest.raises(StatusError):
        set_status(by, tenant=tenant, region=region_na, level=OUTAGE, message="Down.")
    with pytest.raises(StatusError):
        set_status(by, level=OUTAGE, message="Down.")


def test_the_database_allows_one_row_per_tenant_and_exactly_one_of_region_and_tenant(tenant, region_na):
    PlatformStatus.objects.create(tenant=tenant, level=OUTAGE, message="Down.")
    with pytest.raises(IntegrityError):
        PlatformStatus.objects.create(tenant=tenant, level=DEGRADED, message="Slow.")


@pytest.mark.parametrize("target", ["both", "neither"])
def test_the_database_refuses_a_row_for_both_or_neither(tenant, region_na, target):
    fields = {"tenant": tenant, "region": region_na} if target == "both" else {}
    with pytest.raises(IntegrityError):
        PlatformStatus.objects.create(level=OUTAGE, message="Down.", **fields)


# --- subscriptions and emails ----------------------------------------------------------------------------


def test_subscribing_twice_is_one_subscription_and_each_change_is_audited(agent):
    assert status_subscription_set(user=agent, subscribed=True, actor=Actor(user=agent))
    assert not status_subscription_set(user=agent, subscribed=True, actor=Actor(user=agent))
    assert StatusSubscription.objects.filter(user=agent, tenant=agent.tenant).count() == 1
    assert status_subscription_set(user=agent, subscribed=False, actor=Actor(user=agent))
    assert not status_subscription_set(user=agent, subscribed=False, actor=Actor(user=agent))
    actions = list(AuditEvent.objects.filter(action__startswith="status_alerts.").values_list("action", flat=True))
    assert actions == ["status_alerts.unsubscribe", "status_alerts.subscribe"]


def test_platform_staff_cannot_subscribe(rep):
    with pytest.raises(StatusError):
        status_subscription_set(user=rep, subscribed=True, actor=Actor(user=rep))


def test_subscriber_emails_are_those_of_the_tenants_active_subscribers_once_each(tenant, other_tenant, agent,
                                                                                supervisor, other_admin):
    quiet = UserFactory(username="quiet", tenant=tenant)
    gone = UserFactory(username="gone", tenant=tenant)
    no_address = UserFactory(username="noaddress", tenant=tenant, email="")
    subscribe(agent, supervisor, other_admin, gone, no_address)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert subscriber_emails(tenants=[tenant]) == ["andy@example.com", "sam@example.com"]
    assert subscriber_emails(tenants=iter([tenant, other_tenant])) == ["andy@example.com", "nora@example.com",
                                                                         "sam@example.com"]
    assert subscriber_emails(tenants=[]) == []
    assert quiet.email not in subscriber_emails(tenants=[tenant])


def test_subscriber_emails_is_one_query(tenant, other_tenant, agent, other_admin, django_assert_num_queries):
    subscribe(agent, other_admin)
    with django_assert_num_queries(1):
        subscriber_emails(tenants=[tenant, other_tenant])


def test_a_tenants_change_emails_its_subscribers_after_the_commit(by, tenant, agent, supervisor, other_admin,
                                                                 django_capture_on_commit_callbacks):
    subscribe(agent, supervisor, other_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        change = set_status(by, tenant=tenant, level=OUTAGE, message="Calls cannot reach agents.")
    assert change.notified == 2 and mail.outbox == [], "nothing leaves before the commit"
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == ["andy@example.com", "sam@example.com"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)
    message = mail.outbox[0]
    assert message.subject == "Status alert for Classics Inc.: Outage"
    assert "the platform status of Classics Inc. was set to Outage" in message.body
    assert "What is happening: Calls cannot reach agents." in message.body
    assert "switch to the BCP tenant" in message.body and "My Profile → Status alerts" in message.body


def test_a_regions_change_emails_the_subscribers_of_every_tenant_in_it(by, tenant, region_na, agent, other_admin,
                                                                      django_capture_on_commit_callbacks):
    neighbour = TenantFactory(name="Tailspin Travel", region=region_na)
    neighbour_user = UserFactory(username="tess", tenant=neighbour)
    subscribe(agent, other_admin, neighbour_user)
    set_status(by, tenant=neighbour, level=OUTAGE, message="Tailspin is down.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        set_status(by, region=region_na, level=DEGRADED, message="Slow calls in North America.")
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"andy@example.com", "tess@example.com"}
    assert by_address["andy@example.com"].subject == "Status alert for Classics Inc.: Degraded"
    assert "the region North America, where Classics Inc. is hosted, was set to Degraded" in \
        by_address["andy@example.com"].body
    # Tailspin's own outage is worse than the region's new status: its subscriber is told both.
    assert by_address["tess@example.com"].subject == "Status alert for Tailspin Travel: Outage"
    assert "Tailspin Travel is now: Outage" in by_address["tess@example.com"].body


def test_an_unchanged_status_emails_no_one(by, tenant, agent, django_capture_on_commit_callbacks):
    subscribe(agent)
    with django_capture_on_commit_callbacks(execute=True):
        set_status(by, tenant=tenant, level=DEGRADED, message="Slow.")
        set_status(by, tenant=tenant, level=DEGRADED, message="Slow.")
    assert len(mail.outbox) == 1


def test_a_failed_write_emails_no_one(by, tenant, agent, django_capture_on_commit_callbacks):
    subscribe(agent)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(StatusError):
        set_status(by, tenant=tenant, level=OUTAGE, message="")
    assert mail.outbox == []


def test_the_query_for_the_signed_in_users_tenant_is_indexed_and_single(by, tenant):
    set_status(by, tenant=tenant, level=OUTAGE, message="Down.")
    with CaptureQueriesContext(connection) as queries:
        effective_status_by_tenant_id(tenant_id=tenant.pk)
    (query,) = queries.captured_queries
    assert "enablement_platformstatus" in query["sql"] and "tenants_tenant" in query["sql"]
