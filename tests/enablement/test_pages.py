"""Admin → BC Enablement and its TM twin, for every persona, and what they say."""

import html
import re
from datetime import UTC

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.roles import ADMINISTRATOR, CHANGE_BCP_ENABLEMENT, SUPERVISOR, VIEW_BCP_ENABLEMENT
from accounts.services import role_set_permissions
from audit.services import Actor
from enablement import services
from sync.models import SyncRun
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.enablement.conftest import PASSKEY
from tests.factories import role_of
from tests.permissions import GET, POST, Row, answers, ask, cases

SCOPE = [VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT]
WRONG = {"bcp_active": "on", "passkey": "WRONG-KEY", "confirm": "on"}


@pytest.fixture
def roles(tenant, other_tenant):
    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(tenant, SUPERVISOR), permissions=[VIEW_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(other_tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())


@pytest.fixture
def paired(mapping, roles):
    return mapping


# url name, method, then the answer per persona in the order of PERSONAS: anonymous, agent, supervisor (View),
# tenant_admin (Edit), other_admin (Edit on an unpaired tenant), rep; form data.
URLS = [
    Row("enablement:page", GET, answers(302, 404, 200, 200, 200, 404)),
    Row("enablement:switch", POST, answers(302, 404, 403, 400, 404, 404), data=WRONG),
    Row("enablement:tm_page", GET, answers(302, 404, 404, 404, 404, 200)),
    Row("enablement:tm_page", POST, answers(302, 404, 404, 404, 404, 400), data=WRONG),
]


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_enablement_url_for_every_persona(as_persona, paired, row, persona):
    ask(as_persona(persona), row, persona, args=[paired.primary_id] if row.name == "enablement:tm_page" else [])
    paired.refresh_from_db()
    assert paired.active_side == BcpMapping.Side.PRIMARY


def test_the_page_shows_the_active_tenant_the_checks_and_the_form(client, tenant_admin, paired):
    client.force_login(tenant_admin)
    page = client.get(reverse("enablement:page")).text
    assert "<title>BC Enablement" in page
    assert "<strong>Classics Inc.</strong>" in page and "nobody has switched yet" in page
    assert 'data-testid="check-sync_fresh"' in page and "No sync has completed yet" in page
    assert 'role="switch"' in page and "Enable/Disable BCP Tenant" in page and ">Submit</button>" in page
    assert "every user of both tenants is signed out" in page


def test_someone_with_view_only_sees_no_form(client, supervisor, paired):
    client.force_login(supervisor)
    page = client.get(reverse("enablement:page")).text
    assert 'role="switch"' not in page and "Switching needs BCP Tenant Enablement Edit" in page


def test_an_unpaired_tenant_says_what_to_do(client, other_admin, roles):
    client.force_login(other_admin)
    page = client.get(reverse("enablement:page")).text
    assert "not paired with a backup" in page and "account representative" in page


def test_a_wrong_passkey_is_a_clear_error_and_nothing_changes(client, tenant_admin, paired):
    client.force_login(tenant_admin)
    response = client.post(reverse("enablement:switch"), WRONG)
    assert response.status_code == 400 and "That passkey is not right" in response.text
    assert 'name="passkey"' in response.text and "WRONG-KEY" not in response.text  # never echoed back
    # What the person already confirmed stays confirmed; only the passkey is asked for again.
    assert re.search(r'<input type="checkbox" name="confirm" id="id_confirm" required checked', response.text)


def test_the_confirmation_is_required(client, tenant_admin, paired):
    client.force_login(tenant_admin)
    response = client.post(reverse("enablement:switch"), {"bcp_active": "on", "passkey": PASSKEY})
    assert response.status_code == 400 and "Confirm that everyone is signed out" in response.text
    assert not audit_events().filter(action__startswith="enablement.").exists()  # the passkey was not tried


def test_a_pair_that_never_synced_is_refused_with_the_reason(client, tenant_admin, paired):
    client.force_login(tenant_admin)
    response = client.post(reverse("enablement:switch"), {**WRONG, "passkey": PASSKEY})
    assert response.status_code == 409 and "No sync has completed yet" in response.text
    # A switch that would be refused anyway is not offered "anyway".
    assert 'name="force"' not in response.text and "Switch anyway" not in response.text


def test_too_many_wrong_passkeys_are_a_429_that_says_when(client, tenant_admin, paired):
    client.force_login(tenant_admin)
    for _ in range(services.THROTTLE_LIMIT):
        client.post(reverse("enablement:switch"), WRONG)
    response = client.post(reverse("enablement:switch"), {**WRONG, "passkey": PASSKEY})
    assert response.status_code == 429 and "You can try again at" in response.text


def test_a_successful_switch_signs_the_administrator_out_and_says_what_happened(client, synced):
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    response = client.post(reverse("enablement:switch"), {**WRONG, "passkey": PASSKEY}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "The BCP tenant “Classics Inc. BCP” is active now" in response.text
    synced.refresh_from_db()
    assert synced.active_side == BcpMapping.Side.SECONDARY


def test_the_page_states_the_instant_of_the_primary_the_bcp_tenant_holds(client, synced):
    """The RPO is the snapshot's instant (SyncRun.source_as_of), read from the backup's region."""
    run = SyncRun.objects.filter(mapping=synced, status=SyncRun.Status.SUCCEEDED).get()
    assert run.source_as_of is not None and run.source_as_of <= run.finished_at
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    page = client.get(reverse("enablement:page")).text
    as_of = run.source_as_of.astimezone(UTC)
    assert (f'holds the primary as it was at <time datetime="{as_of.isoformat(timespec="seconds")}">'
            f'{as_of:%Y-%m-%d %H:%M} UTC</time> (the last successful sync)') in html.unescape(page)


def test_every_time_on_the_page_has_one_format_with_its_zone(client, synced):
    """"2026-12-06 14:34 UTC", or "2 minutes ago, 14:34 UTC" where the age matters, in a <time> element (as text
    in the sentences built in Python): never a time with seconds, nor a clock time without its date."""
    alice = User.objects.get(username="alice", is_bcp_copy=False)
    services.tenant_switch(mapping=synced, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY, actor=Actor(user=alice))
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    page = html.unescape(client.get(reverse("enablement:page")).text)
    shown = re.findall(r'<time datetime="[^"]+">([^<]*)</time>', page)
    assert len(shown) >= 3  # active since, the copy's instant, its age
    absolute = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"
    aged = r"(just now|\d+ \w+ ago), (\d{4}-\d{2}-\d{2} )?\d{2}:\d{2} UTC"
    assert all(re.fullmatch(absolute, text) or re.fullmatch(aged, text) for text in shown), shown
    # Sentences built in Python (the readiness checks) say the same, as text.
    outside = re.sub(r"<time [^>]*>.*?</time>", "", page)
    assert outside.count("UTC") == len(re.findall(absolute, outside)) and not re.search(r"\d:\d{2}:\d{2}", outside)


def test_submitting_the_state_in_force_says_so(client, synced):
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    response = client.post(reverse("enablement:switch"), {"passkey": PASSKEY, "confirm": "on"}, follow=True)
    assert "already the active tenant, so nothing changed" in response.text
    assert response.redirect_chain[-1][0] == reverse("enablement:page")


def test_a_representative_switches_and_reverts_from_tm_on_the_customers_behalf(client, synced, rep):
    client.force_login(rep)
    url = reverse("enablement:tm_page", args=[synced.primary_id])
    assert "You act on the customer's behalf" in client.get(url).text
    detail = client.get(reverse("tenants:detail", args=[synced.primary_id])).text
    assert f'href="{url}"' in detail
    response = client.post(url, {**WRONG, "passkey": PASSKEY}, follow=True)
    assert "is active now" in response.text
    synced.refresh_from_db()
    assert synced.active_side == BcpMapping.Side.SECONDARY
    event = audit_events().get(action="enablement.switch")
    assert event.actor == rep and event.changes["on_behalf"] is True
    # From the BCP tenant's page too.
    response = client.post(reverse("enablement:tm_page", args=[synced.secondary_id]),
                           {"passkey": PASSKEY, "confirm": "on"}, follow=True)
    assert "is active again" in response.text


def test_the_page_names_who_switched_as_the_header_does(client, synced):
    """"switched by Alice Admin", the name the header and the sync history give her, not her username."""
    alice = User.objects.get(username="alice", is_bcp_copy=False)
    services.tenant_switch(mapping=synced, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY, actor=Actor(user=alice))
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    page = html.unescape(client.get(reverse("enablement:page")).text)
    assert "switched by Alice Admin." in page and "switched by alice" not in page


def test_a_sync_waiting_to_start_is_not_called_running_on_either_page(client, synced):
    """The forward sync a switch back queues waits for a worker: BC Enablement and the sync page say it waits, and
    when it starts; once a worker has it, both say it is running."""
    from sync.services import sync_run_request

    alice = User.objects.get(username="alice", is_bcp_copy=False)
    run = sync_run_request(tenant=synced.primary, actor=Actor(user=alice), trigger=SyncRun.Trigger.SWITCH_BACK,
                           enqueue=False)
    client.force_login(alice)
    page = html.unescape(client.get(reverse("enablement:page")).text)
    assert re.search(r"A sync is waiting to start \(queued at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\): it starts as "
                     r"soon as a worker takes it\.", page)
    assert "A sync is running" not in page and "No sync is running" not in page
    sync_page = client.get(reverse("sync:configuration")).text
    assert "A sync is waiting to start: it starts as soon as a worker takes it." in sync_page
    assert "A sync is running" not in sync_page

    User.objects.filter(pk=alice.pk).update(language="de")
    page = html.unescape(client.get(reverse("enablement:page")).text)
    assert "Eine Synchronisierung wartet auf ihren Start (eingereiht um " in page
    assert "Sie beginnt, sobald ein Worker sie übernimmt." in client.get(reverse("sync:configuration")).text
    User.objects.filter(pk=alice.pk).update(language="en")

    # A worker takes it.
    SyncRun.objects.using(run._state.db).filter(pk=run.pk).update(
        status=SyncRun.Status.RUNNING, started_at=run.queued_at, heartbeat_at=run.queued_at)
    page = client.get(reverse("enablement:page")).text
    assert "A sync is running. Wait for it to finish" in page and "waiting to start" not in page
    sync_page = client.get(reverse("sync:configuration")).text
    assert "A sync is running (started" in sync_page and "waiting to start" not in sync_page
