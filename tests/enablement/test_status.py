"""Platform status and the outage: the service rules, the emails, the TM pages and Status alerts for every
persona, and the outage page that stands in for every page of a tenant in outage."""

import re
import threading
import uuid
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.db import IntegrityError, connections
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMINISTRATOR, CHANGE_BCP_ENABLEMENT, VIEW_BCP_ENABLEMENT
from accounts.services import role_set_permissions
from audit.services import Actor
from status.models import PlatformStatus, StatusLevel, StatusSubscription
from status.selectors import effective_status, effective_status_by_tenant_id, subscriber_emails
from status.services import StatusError, platform_status_set, status_subscription_set
from tests.auditlog import audit_events
from tests.factories import TenantFactory, UserFactory, role_of
from tests.permissions import GET, POST, Row, answers, ask, cases
from tests.queries import CaptureQueriesEverywhere

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
    event = audit_events().get(action="platform_status.set")
    assert event.actor == by.user and event.tenant == tenant
    assert event.changes == {"level": ["operational", "outage"], "message": ["", "Down."]}
    set_status(by, region=region_na, level=DEGRADED, message="Slow.")
    event = audit_events().filter(action="platform_status.set").first()
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
    assert audit_events().filter(action="platform_status.set").count() == 1
    assert mail.outbox == []


def test_operational_where_nothing_was_ever_set_writes_no_row(by, tenant):
    change = set_status(by, tenant=tenant, level=OPERATIONAL)
    assert not change.changed
    assert not PlatformStatus.objects.exists() and not audit_events().filter(action="platform_status.set").exists()


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
    assert not PlatformStatus.objects.exists() and not audit_events().filter(action="platform_status.set").exists()


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



@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                    reason="a race of two writers needs PostgreSQL; SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_two_representatives_setting_a_first_status_at_once_leave_one_row_and_both_changes_audited(tenant, rep):
    """Both find no row, then both insert: the unique tenant decides, and the loser updates the winner's row."""
    both_read = threading.Barrier(2)
    waited = threading.local()

    def now_once_both_have_read():
        if not getattr(waited, "done", False):
            waited.done = True
            both_read.wait(timeout=20)
        return timezone.now()

    outcomes = []

    def run(message):
        try:
            outcomes.append(platform_status_set(tenant=tenant, level=OUTAGE, message=message, actor=Actor(user=rep)))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(exc)
        finally:
            connections.close_all()

    with mock.patch("status.services.timezone", SimpleNamespace(now=now_once_both_have_read)):
        threads = [threading.Thread(target=run, args=(text,)) for text in ("Down.", "Down since 9:00.")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert [type(o).__name__ for o in outcomes] == ["StatusChange", "StatusChange"], outcomes
    assert all(o.changed for o in outcomes)
    assert PlatformStatus.objects.filter(tenant=tenant).count() == 1
    assert audit_events().filter(action="platform_status.set").count() == 2

# --- subscriptions and emails ----------------------------------------------------------------------------


def test_subscribing_twice_is_one_subscription_and_each_change_is_audited(agent):
    assert status_subscription_set(user=agent, subscribed=True, actor=Actor(user=agent))
    assert not status_subscription_set(user=agent, subscribed=True, actor=Actor(user=agent))
    assert StatusSubscription.objects.filter(user=agent, tenant=agent.tenant).count() == 1
    assert status_subscription_set(user=agent, subscribed=False, actor=Actor(user=agent))
    assert not status_subscription_set(user=agent, subscribed=False, actor=Actor(user=agent))
    actions = list(audit_events().filter(action__startswith="status_alerts.").values_list("action", flat=True))
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


def test_the_email_speaks_the_subscribers_language(by, tenant, agent, django_capture_on_commit_callbacks):
    agent.language = "de"
    agent.save(update_fields=["language"])
    subscribe(agent)
    with django_capture_on_commit_callbacks(execute=True):
        set_status(by, tenant=tenant, level=OUTAGE, message="Keine Anrufe.")
    (message,) = mail.outbox
    assert message.subject == "Statusmeldung für Classics Inc.: Ausfall"
    assert "Keine Anrufe." in message.body and "What is happening" not in message.body
    # A region's status names the region in German too.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        set_status(by, region=tenant.region, level=OUTAGE, message="Keine Anrufe.")
    (message,) = mail.outbox
    assert "der Region Nordamerika" in message.body and "North America" not in message.body


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
    with CaptureQueriesEverywhere() as queries:
        effective_status_by_tenant_id(tenant_id=tenant.pk)
    (query,) = queries.captured_queries
    assert "enablement_platformstatus" in query["sql"] and "tenants_tenant" in query["sql"]


# --- the pages: who may open them ------------------------------------------------------------------------

# url name, method, then the answer per persona in the order of PERSONAS: anonymous, agent, supervisor,
# tenant_admin (BCP Tenant Enablement Edit), other_admin, rep; form data.
TM_ONLY = answers(302, 404, 404, 404, 404, 200)
TM_SAVE = answers(302, 404, 404, 404, 404, 302)
URLS = [
    Row("status:list", GET, TM_ONLY),
    Row("status:region", GET, TM_ONLY),
    Row("status:tenant", GET, TM_ONLY),
    Row("status:region", POST, TM_SAVE, data={"level": "degraded", "message": "Slow."}),
    Row("status:tenant", POST, TM_SAVE, data={"level": "degraded", "message": "Slow."}),
    Row("status:alerts", GET, answers(302, 200, 200, 200, 200, 404)),
    Row("status:alerts", POST, answers(302, 302, 302, 302, 302, 404), data={"subscribed": "on"}),
]


@pytest.fixture
def enabler(tenant):
    """The tenant's administrators hold BCP Tenant Enablement Edit (the seed's step 3)."""
    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT],
                         scope=[VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT], actor=Actor.system())


def _args(name, tenant, region):
    return {"status:region": [region.code], "status:tenant": [tenant.pk]}.get(name, [])


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_status_url_for_every_persona(as_persona, enabler, tenant, region_na, row, persona):
    ask(as_persona(persona), row, persona, args=_args(row.name, tenant, region_na))
    if row.method == POST and row.name != "status:alerts":
        assert PlatformStatus.objects.exists() == (persona == "rep")
    if row.method == POST and row.name == "status:alerts":
        assert StatusSubscription.objects.exists() == (persona not in ("anonymous", "rep"))


def test_an_unknown_region_or_tenant_is_404(client, rep):
    client.force_login(rep)
    assert client.get(reverse("status:region", args=["atlantis"])).status_code == 404
    assert client.get(reverse("status:tenant", args=["not-a-uuid"])).status_code == 404
    assert client.get(reverse("status:tenant", args=[uuid.uuid4()])).status_code == 404


# --- Tenant Management → Platform status -----------------------------------------------------------------


def _title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.text, re.S).group(1).strip()


def test_the_list_says_when_everything_is_operational(client, rep, region_na, region_eu):
    client.force_login(rep)
    response = client.get(reverse("status:list"))
    assert _title(response) == "Platform status · bcp"
    assert "Every region and every tenant is operational." in response.text
    assert "North America" in response.text and "Europe" in response.text
    assert 'aria-current="page">Platform status' in response.text


def test_the_list_shows_each_regions_database_and_never_says_all_is_well_while_one_does_not_answer(
        client, rep, region_na, region_eu):
    from bcp_project.regions import health

    health.mark_down("na", "OperationalError: connection refused", forced=True)
    since = health.state("na").down_since
    client.force_login(rep)
    page = client.get(reverse("status:list")).text
    database = re.sub(r"<[^>]+>", "", page.split('data-testid="database-na">')[1].split("</td>")[0])
    assert f"Not answering since {since:%Y-%m-%d %H:%M} UTC" in database
    assert "Answering" in page.split('data-testid="database-eu">')[1].split("</td>")[0]
    assert "Every region and every tenant is operational." not in page
    assert ("No status other than Operational is set, but the database of North America is not answering: see "
            "Regions above, and set the region’s status to tell its users.") in page
    partial = client.get(reverse("status:list"), headers={"HX-Request": "true"}).text
    assert "the database of North America is not answering" in partial

    health.mark_up("na")
    assert "Every region and every tenant is operational." in client.get(reverse("status:list")).text


def test_the_list_shows_what_is_not_operational_worst_first_and_searches(client, rep, by, tenant, other_tenant,
                                                                         region_na):
    set_status(by, region=region_na, level=DEGRADED, message="Slow calls.")
    set_status(by, tenant=other_tenant, level=OUTAGE, message="Northwind is down.")
    set_status(by, tenant=tenant, level=DEGRADED, message="Reports are late.")
    set_status(by, tenant=tenant, level=OPERATIONAL)
    client.force_login(rep)
    table = client.get(reverse("status:list")).text.split('id="status-table"')[1]
    assert "2 regions or tenants not operational" in table
    assert table.index("Northwind Support") < table.index("North America")
    assert "Classics Inc." not in table
    response = client.get(reverse("status:list"), {"q": "northwind"}, headers={"HX-Request": "true"})
    assert "1 region or tenant not operational" in response.text and "<html" not in response.text
    response = client.get(reverse("status:list"), {"q": "fabrikam"})
    assert "No region or tenant that is not operational matches your search." in response.text


def test_the_list_pages_and_its_queries_do_not_grow(client, rep, by, region_na, settings,
                                                    django_assert_max_num_queries):
    settings.PAGE_SIZE = 5
    for number in range(12):
        set_status(by, tenant=TenantFactory(name=f"Tenant {number:02d}", region=region_na), level=OUTAGE,
                   message=f"Down {number}.")
    client.force_login(rep)
    # session, user, 2 for tm_admin, the count, the regions, their databases' health, the page
    with django_assert_max_num_queries(8):
        response = client.get(reverse("status:list"), {"page": 2})
    assert "Page 2 of 3" in response.text and response.text.count("Down ") == 5


def test_a_representative_sets_a_regions_status_and_its_subscribers_are_emailed(
        client, rep, region_na, tenant, agent, django_capture_on_commit_callbacks):
    subscribe(agent)
    client.force_login(rep)
    page = client.get(reverse("status:region", args=["na"]))
    assert _title(page) == "Platform status · North America · bcp"
    assert "This region hosts 1 tenant. Saving a change emails every one of its users who subscribed to status " \
           "alerts: 1 now." in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("status:region", args=["na"]),
                               {"level": "outage", "message": "No calls in North America."}, follow=True)
    assert "The status of North America is now Outage. 1 subscriber is being emailed." in response.text
    assert [m.to for m in mail.outbox] == [["andy@example.com"]]
    event = audit_events().get(action="platform_status.set")
    assert event.actor == rep and event.changes["level"] == ["operational", "outage"]


def test_a_change_nobody_subscribed_to_says_so(client, rep, tenant):
    client.force_login(rep)
    response = client.post(reverse("status:tenant", args=[tenant.pk]), {"level": "degraded", "message": "Slow."},
                           follow=True)
    assert "The status of Classics Inc. is now Degraded. No one subscribed to status alerts there, so no one is " \
           "emailed." in response.text


def test_the_same_status_again_says_nothing_changed(client, rep, by, tenant):
    set_status(by, tenant=tenant, level=DEGRADED, message="Slow.")
    client.force_login(rep)
    response = client.post(reverse("status:tenant", args=[tenant.pk]), {"level": "degraded", "message": "Slow."},
                           follow=True)
    assert "Classics Inc. already has the status Degraded with this message. Nothing changed and no one was emailed." \
        in response.text
    assert audit_events().filter(action="platform_status.set").count() == 1


@pytest.mark.parametrize(("data", "words"), [
    ({"level": "outage", "message": ""}, "Say what is happening"),
    ({"level": "degraded", "message": "   "}, "Say what is happening"),
    ({"level": "meltdown", "message": "Down."}, "Choose Operational, Degraded or Outage."),
    ({"message": "Down."}, "Choose Operational, Degraded or Outage."),
    ({"level": "outage", "message": "x" * 501}, "Keep the message to 500 characters; it has 501."),
])
def test_bad_input_is_a_400_with_the_reason_and_nothing_changes(client, rep, tenant, data, words):
    client.force_login(rep)
    response = client.post(reverse("status:tenant", args=[tenant.pk]), data)
    assert response.status_code == 400
    assert words in response.text
    assert not PlatformStatus.objects.exists() and not audit_events().filter(action="platform_status.set").exists()


def test_the_tenant_page_links_to_its_status_which_shows_its_own_its_regions_and_the_one_in_effect(
        client, rep, by, tenant, region_na):
    set_status(by, region=region_na, level=OUTAGE, message="North America is down.")
    client.force_login(rep)
    detail = client.get(reverse("tenants:detail", args=[tenant.pk])).text
    assert f'href="{reverse("status:tenant", args=[tenant.pk])}"' in detail
    page = client.get(reverse("status:tenant", args=[tenant.pk]))
    assert _title(page) == "Platform status · Classics Inc. · bcp"
    assert "North America is down." in page.text
    effective = page.text.split('data-testid="effective-status"')[1].split("</dd>")[0]
    assert "Outage" in effective
    assert "every user of Classics Inc. who subscribed to status alerts: 0 now" in page.text


# --- My Profile → Status alerts --------------------------------------------------------------------------


def test_my_profile_links_to_status_alerts_for_the_users_of_a_tenant_only(client, agent, rep):
    client.force_login(agent)
    assert reverse("status:alerts") in client.get(reverse("accounts:profile")).text
    client.force_login(rep)
    assert reverse("status:alerts") not in client.get(reverse("accounts:profile")).text


def test_a_user_subscribes_and_unsubscribes(client, agent):
    client.force_login(agent)
    page = client.get(reverse("status:alerts"))
    assert _title(page) == "Status alerts · bcp"
    assert "Alerts go to andy@example.com." in page.text and 'checked' not in page.text
    response = client.post(reverse("status:alerts"), {"subscribed": "on"}, follow=True)
    assert "You are subscribed to status alerts for “Classics Inc.”." in response.text
    assert StatusSubscription.objects.filter(user=agent, tenant=agent.tenant).exists()
    assert "checked" in response.text
    response = client.post(reverse("status:alerts"), {"subscribed": "on"}, follow=True)
    assert "Nothing changed: you were already subscribed." in response.text
    response = client.post(reverse("status:alerts"), {}, follow=True)
    assert "You no longer get status alerts." in response.text
    assert not StatusSubscription.objects.exists()
    assert audit_events().filter(action__startswith="status_alerts.").count() == 2


def test_status_alerts_warn_a_user_without_an_email_address(client, tenant):
    client.force_login(UserFactory(username="noemail", tenant=tenant, email=""))
    assert "Your account has no email address" in client.get(reverse("status:alerts")).text


# --- the outage ------------------------------------------------------------------------------------------

# What each persona gets on My Profile while Classics Inc. is in outage, in the order of PERSONAS.
OUTAGE_PAGE = 503
DURING_OUTAGE = [Row("accounts:profile", GET, answers(302, OUTAGE_PAGE, OUTAGE_PAGE, OUTAGE_PAGE, 200, 200))]


@pytest.fixture
def outage(by, tenant, enabler):
    set_status(by, tenant=tenant, level=OUTAGE, message="Calls cannot reach agents; we are on it.")


@pytest.mark.parametrize(("row", "persona"), cases(DURING_OUTAGE))
def test_during_an_outage_its_users_see_the_outage_page(as_persona, outage, row, persona):
    response = ask(as_persona(persona), row, persona)
    if response.status_code == OUTAGE_PAGE:
        assert _title(response) == "Outage: Classics Inc. · bcp"
        assert "Classics Inc. is in an outage" in response.text
        assert "Calls cannot reach agents; we are on it." in response.text
        assert response.headers["Retry-After"] == "300" and "no-store" in response.headers["Cache-Control"]


def test_the_outage_page_says_what_to_do(client, outage, agent, mapping, bcp_tenant):
    client.force_login(agent)
    response = client.get("/")
    assert response.status_code == OUTAGE_PAGE
    assert (f"Your organization has a BCP tenant, “{bcp_tenant.name}”, kept in Europe. An administrator who holds "
            "BCP Tenant Enablement can switch to it") in response.text
    assert "asked to sign in again" in response.text and "Open BC Enablement" not in response.text
    # Served per request: it says to reload, not that it goes away by itself.
    assert "Reload this page to see whether the outage is over" in response.text
    assert "by itself" not in response.text


def test_the_outage_page_of_a_tenant_without_a_bcp_tenant_says_there_is_none(client, outage, agent, tenant_admin):
    for person in (agent, tenant_admin):
        client.force_login(person)
        response = client.get("/")
        assert response.status_code == OUTAGE_PAGE
        assert "Your organization has no BCP tenant, so there is no backup system to switch to." in response.text
        assert "If your organization" not in response.text and "Open BC Enablement" not in response.text


def test_who_may_switch_still_reaches_bc_enablement_and_is_pointed_there(client, outage, tenant_admin, supervisor,
                                                                        agent, mapping):
    client.force_login(tenant_admin)
    bc_enablement = client.get("/admin/bc-enablement/")
    assert bc_enablement.status_code == 200 and "<title>BC Enablement" in bc_enablement.text
    page = client.get(reverse("accounts:admin_home"))
    assert page.status_code == OUTAGE_PAGE
    assert 'href="/admin/bc-enablement/"' in page.text and "Open BC Enablement" in page.text
    for user in (supervisor, agent):  # BCP Tenant Enablement View is not enough, nor nothing at all
        client.force_login(user)
        assert client.get("/admin/bc-enablement/").status_code == OUTAGE_PAGE


def test_during_an_outage_sign_out_status_alerts_and_health_stay_open(client, outage, agent):
    client.force_login(agent)
    assert client.get(reverse("status:alerts")).status_code == 200
    assert client.post(reverse("status:alerts"), {"subscribed": "on"}).status_code == 302
    assert client.get(reverse("healthz")).json()["database"]["ok"]  # the health report, not the outage page
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302  # signed out: off to the sign-in page


def test_a_posted_form_during_an_outage_gets_the_outage_page_and_changes_nothing(client, outage, agent):
    client.force_login(agent)
    assert client.post(reverse("accounts:profile"), {"language": "de"}).status_code == OUTAGE_PAGE
    agent.refresh_from_db()
    assert agent.language == "en"


def test_an_htmx_request_during_an_outage_reloads_the_page(client, outage, tenant_admin):
    client.force_login(tenant_admin)
    response = client.get(reverse("accounts:role_list"), headers={"HX-Request": "true"})
    assert response.status_code == OUTAGE_PAGE and response.headers["HX-Refresh"] == "true"


def test_an_outage_of_the_region_holds_its_tenants_and_a_degraded_status_holds_no_one(client, by, region_na, agent,
                                                                                     other_admin):
    set_status(by, region=region_na, level=DEGRADED, message="Slow.")
    client.force_login(agent)
    assert client.get(reverse("accounts:profile")).status_code == 200
    set_status(by, region=region_na, level=OUTAGE, message="North America is down.")
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == OUTAGE_PAGE
    assert "The outage affects the region North America" in response.text
    client.force_login(other_admin)  # Northwind is hosted in Europe
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_a_representative_supporting_the_tenant_is_not_held_up(client, outage, rep, tenant):
    client.force_login(rep)
    assert client.post(reverse("support:start", args=[tenant.pk])).status_code == 302
    response = client.get(reverse("accounts:admin_home"))
    assert response.status_code == 200 and "Classics Inc." in response.text


def test_the_outage_check_costs_one_query_per_request(client, agent):
    client.force_login(agent)
    client.get(reverse("accounts:profile"))
    with CaptureQueriesEverywhere() as queries:
        assert client.get(reverse("accounts:profile")).status_code == 200
    status_queries = [q["sql"] for q in queries.captured_queries if "enablement_platformstatus" in q["sql"]]
    assert len(status_queries) == 1


def test_the_outage_ends_when_the_status_does(client, by, outage, tenant, agent):
    client.force_login(agent)
    assert client.get(reverse("accounts:profile")).status_code == OUTAGE_PAGE
    set_status(by, tenant=tenant, level=OPERATIONAL)
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_the_outage_page_speaks_german_to_a_german_user(client, outage, agent):
    agent.language = "de"
    agent.save(update_fields=["language"])
    client.force_login(agent)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == OUTAGE_PAGE and response.headers["Content-Language"] == "de"
    assert "Classics Inc. ist ausgefallen" in response.text and "Was Sie tun können" in response.text
    assert "What to do" not in response.text


STATUS_SOURCES = ("status/", "templates/status/", "templates/accounts/profile.html",
                  "templates/tenants/tenant_detail.html", "templates/includes/tm_sidebar.html")


def test_every_text_of_platform_status_has_german():
    import polib

    from tests.test_translations import CATALOGUE

    missing = [entry.msgid for entry in polib.pofile(str(CATALOGUE))
               if any(path.startswith(STATUS_SOURCES) for path, _line in entry.occurrences)
               and (not (all(entry.msgstr_plural.values()) if entry.msgid_plural else entry.msgstr)
                    or "fuzzy" in entry.flags)]
    assert not missing, "Add German for: " + "; ".join(missing)
