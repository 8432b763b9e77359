"""Admin → Sync Configuration for every persona, and what the pages say."""

import re
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMINISTRATOR, SUPERVISOR
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS, VIEW_BCP_CONFIGURATIONS
from contactcenter import services as cc
from sync.models import SyncConfiguration, SyncRun
from sync.services import sync_enable
from tests.factories import role_of
from tests.permissions import GET, POST, Row, answers, ask, cases
from tests.sync.conftest import BACKUP, run_sync
from tests.tenants.bcp_helpers import make_mapping

BCP_SCOPE = [VIEW_BCP_CONFIGURATIONS, CHANGE_BCP_CONFIGURATIONS]


@pytest.fixture
def roles(tenant, other_tenant):
    """The seed's step 3: the Administrator role gets BCP Configurations Edit; supervisors may look."""
    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_CONFIGURATIONS], scope=BCP_SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(tenant, SUPERVISOR), permissions=[VIEW_BCP_CONFIGURATIONS], scope=BCP_SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(other_tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_CONFIGURATIONS],
                         scope=BCP_SCOPE, actor=Actor.system())


@pytest.fixture
def primary(tenant, bcp_tenant, roles):
    make_mapping(tenant, bcp_tenant)
    return tenant


@pytest.fixture
def enabled(primary):
    configuration, _run = sync_enable(tenant=primary, actor=Actor.system())
    SyncRun.objects.filter(mapping=configuration.mapping).update(status=SyncRun.Status.SKIPPED)
    return configuration


@pytest.fixture
def a_run(enabled, primary):
    cc.tag_create(tenant=primary, name="VIP", actor=Actor.system())
    return run_sync(primary)


# url name, method, the answer per persona in the order of PERSONAS: anonymous, agent, supervisor (BCP View),
# tenant_admin (BCP Edit), other_admin (BCP Edit elsewhere), rep; given: the fixture the page needs; form data.
LOOK = answers(302, 404, 200, 200, 200, 404)
READ = answers(302, 404, 200, 200, 404, 404)
CHANGE = answers(302, 404, 403, 302, 404, 404)
URLS = [
    Row("sync:configuration", GET, LOOK, given="primary"),
    Row("sync:history", GET, READ, given="a_run"),
    Row("sync:run_detail", GET, READ, given="a_run"),
    Row("sync:progress", GET, READ, given="a_run"),
    Row("sync:changes", GET, READ, given="a_run"),
    Row("sync:correlations", GET, READ, given="a_run", data={"entity_type": "tag", "side": "primary", "q": "VIP"}),
    Row("sync:disable", GET, answers(302, 404, 403, 200, 404, 404), given="enabled"),
    Row("sync:enable", POST, CHANGE, given="primary"),
    Row("sync:settings", POST, CHANGE, given="enabled", data={"tab": "default", "frequency": "6h"}),
    Row("sync:run", POST, CHANGE, given="enabled"),
    Row("sync:disable", POST, CHANGE, given="enabled"),
]


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_sync_url_for_every_persona(db, request, as_persona, row, persona):
    setup = request.getfixturevalue(row.given)
    ask(as_persona(persona), row, persona, args=[setup.pk] if row.name == "sync:run_detail" else [])


def test_the_administrator_of_another_mapped_tenant_cannot_open_this_tenants_run(client, a_run, other_admin,
                                                                                 other_tenant, region_na):
    from tests.factories import TenantFactory

    make_mapping(other_tenant, TenantFactory(name="Northwind BCP", region=region_na))
    client.force_login(other_admin)
    assert client.get(reverse("sync:run_detail", args=[a_run.pk])).status_code == 404
    page = client.get(reverse("sync:configuration")).text
    assert "Northwind BCP" in page and "Classics" not in page


def test_enable_sync_starts_the_first_run_and_says_so(client, tenant_admin, primary):
    client.force_login(tenant_admin)
    page = client.get(reverse("sync:configuration")).text
    assert "Enable Sync" in page and "Sync is off" in page
    response = client.post(reverse("sync:enable"), follow=True)
    assert "The first sync has started" in response.text
    configuration = SyncConfiguration.objects.get(mapping__primary=primary)
    assert configuration.enabled and configuration.frequency == "daily"
    assert SyncRun.objects.get(mapping=configuration.mapping).trigger == SyncRun.Trigger.FIRST
    assert "Sync now is available again when this run has finished." in response.text
    assert 'hx-trigger="every 1s"' in response.text
    history = client.get(reverse("sync:history")).text
    who = re.escape(str(tenant_admin))  # the person's name, as the run's page gives it
    assert re.search(rf"First sync\s*<span class=\"hint\">\({who}\)</span>", history)
    assert "(not started)" in history


def test_settings_save_the_frequency_and_refuse_a_broken_selection(client, tenant_admin, enabled):
    client.force_login(tenant_admin)
    response = client.post(reverse("sync:settings"), {"tab": "default", "frequency": "continuous"}, follow=True)
    assert "Sync settings are saved." in response.text
    enabled.refresh_from_db()
    assert enabled.frequency == "continuous"
    response = client.post(reverse("sync:settings"), {"tab": "custom", "custom": "custom",
                                                      "entity_types": ["point_of_contact", "tag"]})
    assert response.status_code == 400
    assert "Points of Contact need Skills, Hours of Operation" in response.text
    enabled.refresh_from_db()
    assert not enabled.custom


def test_a_bad_frequency_is_a_clear_400(client, tenant_admin, enabled):
    client.force_login(tenant_admin)
    response = client.post(reverse("sync:settings"), {"tab": "default", "frequency": "weekly"})
    assert response.status_code == 400 and "Select a valid choice" in response.text


def test_sync_now_twice_is_refused_while_the_first_is_queued(client, tenant_admin, enabled):
    client.force_login(tenant_admin)
    assert client.post(reverse("sync:run")).status_code == 302
    response = client.post(reverse("sync:run"))
    assert response.status_code == 409 and "already waiting to start" in response.text
    assert SyncRun.objects.using(BACKUP).filter(status=SyncRun.Status.QUEUED).count() == 1
    SyncRun.objects.using(BACKUP).filter(status=SyncRun.Status.QUEUED).update(status=SyncRun.Status.RUNNING)
    response = client.post(reverse("sync:run"))
    assert response.status_code == 409 and "already running" in response.text


def test_history_shows_the_run_with_its_counts_and_trigger(client, tenant_admin, a_run):
    client.force_login(tenant_admin)
    page = client.get(reverse("sync:history")).text
    assert "Command line" in page and "Succeeded" in page
    detail = client.get(reverse("sync:run_detail", args=[a_run.pk])).text
    assert "Tags" in detail and "Records per type" in detail
    # Its title and heading say the zone, as every time does.
    queued = a_run.queued_at.astimezone(UTC)
    assert f"<title>Sync run of {queued:%Y-%m-%d %H:%M} UTC · " in detail
    instant = queued.isoformat(timespec="seconds")
    assert f'<h1>Sync run of <time datetime="{instant}">{queued:%Y-%m-%d %H:%M} UTC' in detail


def test_changes_since_the_last_sync_lists_what_the_bcp_tenant_lacks(client, tenant_admin, a_run, primary):
    cc.tag_create(tenant=primary, name="Escalated", actor=Actor.system())
    client.force_login(tenant_admin)
    page = client.get(reverse("sync:changes")).text
    assert "Escalated" in page and "VIP" not in page


def test_a_correlation_is_found_from_either_side(client, tenant_admin, a_run, bcp_tenant):
    from contactcenter.models import Tag

    copy = Tag.objects.get(tenant=bcp_tenant, name="VIP")
    client.force_login(tenant_admin)
    page = client.get(reverse("sync:correlations"), {"entity_type": "tag", "side": "primary", "q": "vip"}).text
    assert f"<td>{copy.pk}</td>" in page
    page = client.get(reverse("sync:correlations"), {"entity_type": "tag", "side": "bcp", "q": "VIP"}).text
    assert f"<td>{Tag.objects.get(tenant=a_run.mapping.primary, name='VIP').pk}</td>" in page
    assert client.get(reverse("sync:correlations"), {"entity_type": "nope"}).status_code == 400


def test_the_bcp_tenant_and_an_unmapped_tenant_say_where_syncing_is_configured(client, other_admin, roles,
                                                                               primary, bcp_tenant):
    client.force_login(other_admin)
    assert "No BCP tenant yet" in client.get(reverse("sync:configuration")).text
    from tests.factories import UserFactory

    bcp_admin = UserFactory(username="bcp.admin", tenant=bcp_tenant, role=role_of(bcp_tenant, ADMINISTRATOR))
    role_set_permissions(role=bcp_admin.role, permissions=[VIEW_BCP_CONFIGURATIONS], scope=BCP_SCOPE,
                         actor=Actor.system())
    client.force_login(bcp_admin)
    page = client.get(reverse("sync:configuration")).text
    assert "This is the BCP tenant" in page and "Classics Inc." in page
    assert "The primary is active, so signing in opens it" in page and "sign in to the primary" not in page


def _bcp_side_reader(bcp_tenant, *, language="en"):
    from tests.factories import UserFactory

    reader = UserFactory(username="bcp.admin", tenant=bcp_tenant, role=role_of(bcp_tenant, ADMINISTRATOR),
                         language=language)
    role_set_permissions(role=reader.role, permissions=[VIEW_BCP_CONFIGURATIONS], scope=BCP_SCOPE,
                         actor=Actor.system())
    return reader


def _switch_to_the_bcp_tenant(mapping):
    from tenants.models import BcpMapping

    BcpMapping.objects.filter(pk=mapping.pk).update(active_side=BcpMapping.Side.SECONDARY)


@pytest.mark.parametrize(("language", "paused", "not_said"), [
    ("en", "nothing is copied until someone switches back to the primary on BC Enablement", "signing in opens it"),
    ("de", "wird nichts kopiert, bis jemand unter BC-Aktivierung zum primären Mandanten zurückwechselt",
     "Anmeldung ihn"),
])
def test_the_active_bcp_tenant_says_the_sync_is_paused_instead_of_sending_people_to_the_primary(
        client, a_run, bcp_tenant, language, paused, not_said):
    _switch_to_the_bcp_tenant(a_run.mapping)
    client.force_login(_bcp_side_reader(bcp_tenant, language=language))
    page = client.get(reverse("sync:configuration")).text
    text = " ".join(page.split('data-testid="bcp-side-sync">')[1].split("</p>")[0].split())
    assert paused in text and not_said not in text


def test_changes_since_the_last_sync_tells_the_truth_after_the_switch(client, tenant_admin, a_run, primary,
                                                                      bcp_tenant):
    cc.tag_create(tenant=primary, name="Escalated", actor=Actor.system())
    client.force_login(tenant_admin)
    before = client.get(reverse("sync:changes")).text
    assert "if you switched to the BCP tenant now, it would not have them" in before
    _switch_to_the_bcp_tenant(a_run.mapping)
    client.force_login(_bcp_side_reader(bcp_tenant))
    after = client.get(reverse("sync:changes")).text
    assert "so the BCP tenant, active now, does not have them" in after and "if you switched" not in after
    assert "Escalated" in after
    assert "syncing is paused until someone switches back to the primary on BC Enablement" in client.get(
        reverse("sync:configuration")).text


def test_disable_asks_first_then_stops_the_schedule(client, tenant_admin, enabled):
    client.force_login(tenant_admin)
    assert "Disable Sync?" in client.get(reverse("sync:disable")).text
    response = client.post(reverse("sync:disable"), follow=True)
    assert "Sync is disabled." in response.text
    enabled.refresh_from_db()
    assert not enabled.enabled and enabled.next_run_at is None


def test_the_menu_shows_sync_configuration_to_those_who_may_look(client, supervisor, agent, primary):
    client.force_login(supervisor)
    assert "Sync Configuration" in client.get(reverse("accounts:admin_home")).text


def test_a_run_nobody_picks_up_says_why_it_waits_and_whom_to_tell(client, tenant_admin, enabled):
    client.force_login(tenant_admin)
    client.post(reverse("sync:run"))
    assert "A sync is waiting to start: it starts as soon as a worker takes it." in client.get(
        reverse("sync:progress"), HTTP_HX_REQUEST="true").text
    SyncRun.objects.using(BACKUP).filter(status=SyncRun.Status.QUEUED).update(
        queued_at=timezone.now() - timedelta(minutes=3))
    page = client.get(reverse("sync:progress"), HTTP_HX_REQUEST="true").text
    assert "not started yet" in page and "tell your account representative" in page
    assert 'id="messages"' not in page  # the run is still going: the page's messages stay


def test_the_poll_that_sees_the_run_end_clears_the_started_message(client, tenant_admin, enabled):
    client.force_login(tenant_admin)
    client.post(reverse("sync:run"))
    assert "The sync has started" in client.get(reverse("sync:configuration")).text
    run = SyncRun.objects.using(BACKUP).get(status=SyncRun.Status.QUEUED)
    SyncRun.objects.using(BACKUP).filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED, started_at=timezone.now(),
                                             finished_at=timezone.now())
    page = client.get(reverse("sync:progress"), HTTP_HX_REQUEST="true").text
    assert 'id="messages"' in page and 'hx-swap-oob="true"' in page and "The sync has started" not in page


def test_history_and_a_run_write_their_times_with_the_zone_in_the_cell(client, tenant_admin, a_run):
    client.force_login(tenant_admin)
    history = client.get(reverse("sync:history")).text
    assert "(UTC)" not in history
    assert re.search(r'<time datetime="[^"]+">\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC</time>', history)
    detail = client.get(reverse("sync:run_detail", args=[a_run.pk])).text
    assert "Ended (UTC)" not in detail and re.search(r"<dt>Ended</dt><dd><time [^>]+>[\d: -]+ UTC</time></dd>", detail)
    configuration = client.get(reverse("sync:configuration")).text
    assert re.search(r"Last run ended <time [^>]+>just now, \d{2}:\d{2} UTC</time>\.", configuration)


def test_history_and_the_run_name_the_person_who_started_it_alike(client, tenant_admin, enabled):
    from sync.services import sync_run_request

    tenant_admin.first_name, tenant_admin.last_name = "Alice", "Admin"
    tenant_admin.save()
    run = sync_run_request(tenant=enabled.mapping.primary, actor=Actor(user=tenant_admin),
                           trigger=SyncRun.Trigger.MANUAL)
    client.force_login(tenant_admin)
    history = client.get(reverse("sync:history")).text
    detail = client.get(reverse("sync:run_detail", args=[run.pk])).text
    assert '<span class="hint">(Alice Admin)</span>' in history and "(alice)" not in history
    assert "Sync now (Alice Admin)" in detail


def test_the_settings_say_that_changes_on_the_active_bcp_tenant_can_be_carried_back(client, tenant_admin, enabled,
                                                                                      a_run, bcp_tenant):
    client.force_login(tenant_admin)
    page = " ".join(client.get(reverse("sync:configuration")).text.split())
    assert "overwritten by the next run. Changes made while the BCP tenant is active can be carried back" in page
    _switch_to_the_bcp_tenant(a_run.mapping)
    client.force_login(_bcp_side_reader(bcp_tenant, language="de"))
    page = " ".join(client.get(reverse("sync:configuration")).text.split())
    assert "listet BC-Aktivierung sie vor dem Zurückwechseln auf" in page


@pytest.mark.parametrize(("down", "name"), [("na", "North America"), (BACKUP, "Europe")])
def test_sync_now_is_not_offered_nor_queued_while_a_region_of_the_pair_does_not_answer(client, tenant_admin, enabled,
                                                                                     down, name):
    from bcp_project.regions import health

    health.mark_down(down, "OperationalError: connection refused", forced=True)
    since = health.state(down).down_since
    client.force_login(tenant_admin)
    sentence = (f"The database of {name} has not answered since {since:%Y-%m-%d %H:%M} UTC, so a sync cannot run "
                "now: Sync now is offered again once it answers.")
    if down != BACKUP:  # the page itself needs the backup's region (the runs live there)
        page = client.get(reverse("sync:configuration")).text
        assert sentence in page and ">Sync now</button>" not in page
    before = SyncRun.objects.using(BACKUP).count() if down != BACKUP else None
    response = client.post(reverse("sync:run"))
    assert response.status_code in (409, 503)
    if down != BACKUP:
        assert response.status_code == 409 and sentence in response.text
        assert "The sync has started" not in response.text
        assert SyncRun.objects.using(BACKUP).count() == before

    health.mark_up(down)
    assert client.post(reverse("sync:run")).status_code == 302


def test_a_run_that_failed_because_a_region_did_not_answer_says_so_not_that_it_missed_records(client, tenant_admin,
                                                                                              enabled):
    now = timezone.now()
    run = SyncRun.objects.create(mapping=enabled.mapping, status=SyncRun.Status.FAILED, started_at=now,
                                 finished_at=now, errors=[{"code": "region_down", "region": "na"}])
    client.force_login(tenant_admin)
    page = client.get(reverse("sync:configuration")).text
    assert "The last run stopped because the database of North America did not answer; it copied nothing." in page
    assert "did not copy everything" not in page
    assert "(North America did not answer; nothing was copied)" in client.get(reverse("sync:history")).text
    detail = client.get(reverse("sync:run_detail", args=[run.pk])).text
    assert "The database of North America did not answer; nothing was copied." in detail
