"""What BC Enablement and TM say while a region's database does not answer (issue 17): the pair's region that is
down, and since when, as the control plane keeps it; a readiness check that needs a region that is down says it
cannot be checked instead of failing the page; TM marks the tenants of that region. With the tests' SQLite regions
marked down as the region backends mark them (tests/regions/test_region_loss.py does it with real servers)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import ADMINISTRATOR, CHANGE_BCP_ENABLEMENT, VIEW_BCP_ENABLEMENT
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.models import RegionHealth
from bcp_project.regions import health
from sync.models import Correlation, SyncRun
from tests.enablement.conftest import PASSKEY
from tests.factories import role_of


def plain(page: str) -> str:
    """The page's text without its tags: a time is shown inside <time datetime="…">."""
    return re.sub(r"<[^>]+>", "", page)


@pytest.fixture
def paired(configured, sync_enabled, mapping, tenant):
    """The pair as a first sync leaves it: a succeeded run, the users' copies and their correlations in the
    backup's region (written here, not by the sync engine: these tests are about a region that does not answer)."""
    scope = [VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT]
    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT], scope=scope,
                         actor=Actor.system())
    now = timezone.now()
    SyncRun.objects.create(mapping=mapping, status=SyncRun.Status.SUCCEEDED, trigger=SyncRun.Trigger.FIRST,
                           started_at=now, finished_at=now)
    for person in User.objects.filter(tenant=tenant, is_bcp_copy=False):
        copy = User.objects.create(username=person.username, tenant=mapping.secondary, is_bcp_copy=True)
        Correlation.objects.create(mapping=mapping, entity_type="user", source_id=person.pk, target_id=copy.pk,
                                   content_hash="x", synced_at=now)
    return mapping


@pytest.fixture
def alice(client, paired):
    """Classics Inc.'s administrator (tests/sync/conftest.py), signed in."""
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    return client


def test_bc_enablement_names_the_primarys_region_that_does_not_answer_and_since_when(alice):
    health.mark_down("na", "OperationalError: connection refused")
    since = RegionHealth.objects.get(code="na").down_since
    health.forget()  # not only cached: the page reads the control plane's record

    response = alice.get(reverse("enablement:page"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"The database of North America is not answering, since {since:%Y-%m-%d %H:%M} UTC." in plain(page)
    assert 'data-testid="region-down-na"' in page and 'data-testid="region-down-eu"' not in page
    assert "check-unknown" not in page  # no check needs the primary's region
    assert 'class="check check-ok" data-testid="check-users"' in page

    health.mark_up("na")
    assert "is not answering" not in alice.get(reverse("enablement:page")).content.decode()


def test_readiness_checks_that_need_the_backups_region_cannot_be_checked_and_do_not_fail_the_page(
        alice):
    health.mark_down("eu", "DeadlineExceeded: the server did not answer within 4 s")
    response = alice.get(reverse("enablement:page"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="region-down-eu"' in page
    assert page.count("This cannot be checked: the database of Europe is not answering.") == 3
    for key in ("sync_fresh", "sync_idle", "users"):
        assert f'class="check check-unknown" data-testid="check-{key}"' in page
    assert "Cannot be checked:" in page


def test_a_switch_to_a_bcp_tenant_whose_region_does_not_answer_is_refused_and_says_why(alice, paired):
    health.mark_down("eu", "test")
    since = health.state("eu").down_since
    data = {"bcp_active": "on", "passkey": PASSKEY, "confirm": "on", "force": "on", "reason": "NA is down"}
    refused = alice.post(reverse("enablement:switch"), data)
    assert refused.status_code == 409
    page = refused.content.decode()
    assert (f"The database of Europe, where the BCP tenant “Classics Inc. BCP” is kept, has not answered since "
            f"{since:%Y-%m-%d %H:%M} UTC. A switch to it is refused until it answers") in page
    assert 'name="force"' not in page  # no "switch anyway" for what a reason cannot fix
    paired.refresh_from_db()
    assert paired.active_side == "primary"


def test_tm_marks_the_tenants_whose_region_does_not_answer(as_persona, rep, tenant, other_tenant):
    health.mark_down("na", "test")
    since = health.state("na").down_since
    page = as_persona("rep").get(reverse("tenants:list")).content.decode()
    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in page.split("<tr>")[2:]}
    assert f"Not answering since {since:%Y-%m-%d %H:%M} UTC" in plain(rows[tenant.name])
    assert 'data-testid="region-down"' not in rows[other_tenant.name]


def test_the_notes_are_in_german_for_a_german_speaker(alice, as_persona, rep, tenant):
    health.mark_down("na", "test")
    since = f"{health.state('na').down_since:%Y-%m-%d %H:%M}"
    admin = User.objects.get(username="alice", is_bcp_copy=False)
    admin.language = "de"
    admin.save(update_fields=["language"])
    page = alice.get(reverse("enablement:page")).content.decode()
    assert f"Die Datenbank von Nordamerika antwortet nicht, seit {since} UTC." in plain(page)
    rep.language = "de"
    rep.save(update_fields=["language"])
    assert f"Antwortet nicht seit {since} UTC" in plain(as_persona("rep").get(reverse("tenants:list")).content.decode())


def test_the_region_page_says_for_certain_that_the_tenant_has_a_bcp_tenant_and_points_who_may_switch(
        alice, paired, client):
    from django.test import Client

    health.mark_down("na", "test")
    page = alice.get(reverse("contactcenter:team_list"))
    assert page.status_code == 503
    text = page.content.decode()
    assert ("Your organization has a BCP tenant, “Classics Inc. BCP”, kept in Europe: everyone can carry on there "
            "once it is switched to on BC Enablement.") in text
    assert f'href="{reverse("enablement:page")}"' in text  # alice holds BCP Tenant Enablement Edit
    assert "If your organization" not in text and "by itself" not in text
    assert "Reload this page in a few minutes: it works again once the region answers." in text
    assert 'data-testid="region-unavailable-plan"' in text

    agent = Client()
    agent.force_login(User.objects.get(username="andy", is_bcp_copy=False))
    refused = agent.get(reverse("continuity:versions"))  # the plan's versions are kept in the primary's region
    assert refused.status_code == 503
    text = refused.content.decode()
    assert "Ask an administrator who holds BCP Tenant Enablement to switch." in text
    assert f'href="{reverse("enablement:page")}"' not in text


def test_the_region_page_of_a_tenant_without_a_bcp_tenant_says_there_is_none(client, tenant_admin):
    health.mark_down("na", "test")
    client.force_login(tenant_admin)
    page = client.get(reverse("contactcenter:team_list"))
    assert page.status_code == 503
    text = page.content.decode()
    assert "Your organization has no BCP tenant, so there is no backup system to switch to" in text
    assert "If your organization" not in text and 'data-testid="region-unavailable-plan"' not in text


def test_everyone_of_a_tenant_whose_region_is_down_gets_a_banner_that_says_what_works(alice, paired):
    from django.test import Client

    health.mark_down("na", "test")
    since = health.state("na").down_since
    agent = Client()
    agent.force_login(User.objects.get(username="andy", is_bcp_copy=False))
    page = agent.get(reverse("accounts:profile"))
    assert page.status_code == 200
    text = page.content.decode()
    banner = text.split('data-testid="region-down-banner"')[1].split("</div>")[0]
    assert "The database of North America, where your organization’s data is kept, has not answered since" in banner
    assert f"{since:%Y-%m-%d %H:%M} UTC" in banner
    assert f'href="{reverse("continuity:plan")}"' in banner
    assert "An administrator who holds BCP Tenant Enablement can switch everyone to the BCP tenant" in banner
    assert reverse("enablement:page") not in banner  # the agent may not switch: no link
    banner = alice.get(reverse("accounts:profile")).content.decode().split(
        'data-testid="region-down-banner"')[1].split("</div>")[0]
    assert "You can switch everyone to the BCP tenant “Classics Inc. BCP” on BC Enablement." in banner
    assert f'href="{reverse("enablement:page")}"' in banner

    health.mark_up("na")
    assert 'data-testid="region-down-banner"' not in agent.get(reverse("accounts:profile")).content.decode()


def test_the_banner_of_a_tenant_without_a_bcp_tenant_says_there_is_none(client, tenant_admin, other_admin):
    health.mark_down("na", "test")
    client.force_login(tenant_admin)
    text = client.get(reverse("accounts:profile")).content.decode()
    assert "Your organization has no BCP tenant: pages that need this data work again once the region answers." in text
    client.force_login(other_admin)  # another region's tenant: nothing to say
    assert 'data-testid="region-down-banner"' not in client.get(reverse("accounts:profile")).content.decode()


def test_an_outage_a_representative_set_shows_a_banner_where_no_outage_note_says_it(alice, paired, rep):
    from status.models import StatusLevel
    from status.services import platform_status_set

    platform_status_set(tenant=paired.primary, level=StatusLevel.OUTAGE, message="Calls are not routed.",
                        actor=Actor(user=rep))
    page = alice.get(reverse("enablement:page"))  # who may switch still reaches BC Enablement
    assert page.status_code == 200
    banner = page.content.decode().split('data-testid="outage-banner"')[1].split("</div>")[0]
    assert "Your account representative reports an outage." in banner and "Calls are not routed." in banner
    outage = alice.get(reverse("accounts:profile"))  # the outage page says it all
    assert outage.status_code == 503 and 'data-testid="outage-banner"' not in outage.content.decode()
    plan = alice.get(reverse("continuity:plan")).content.decode()  # the plan has its own note
    assert 'data-testid="plan-outage"' in plan and 'data-testid="outage-banner"' not in plan
