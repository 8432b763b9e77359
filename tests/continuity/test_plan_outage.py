"""The plan during an outage (issue 18): its emergency contacts and activation triggers are what an outage needs,
so everyone in the tenant reads it then. A platform outage a representative set leaves the plan, its print view
and its PDF open (read-only); a primary whose region's database does not answer reads the copy the sync made on
its BCP tenant, labelled as such, while the backup's region answers; both outage pages link to the plan. The
regions are the tests' SQLite databases, marked down as the region backends mark them."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from audit.services import Actor
from bcp_project.regions import health
from continuity.models import EmergencyContact
from continuity.plan import services
from status.models import StatusLevel
from status.services import platform_status_set
from sync.models import SyncRun
from tests.sync.conftest import configured, mapping, run_sync, sync_enabled  # noqa: F401
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

PLAN = reverse("continuity:plan")
PRINT = reverse("continuity:print")
PDF = reverse("continuity:pdf")


def _client(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _outage(*, tenant=None, region=None, rep):
    platform_status_set(tenant=tenant, region=region, level=StatusLevel.OUTAGE, message="Calls are not routed.",
                        actor=Actor(user=rep))


# --- a platform outage set by a representative ---------------------------------------------------------------

@pytest.mark.parametrize("persona", ["agent", "supervisor", "tenant_admin"])
def test_during_an_outage_everyone_in_the_tenant_reads_the_plan_its_print_view_and_pdf(
        persona, request, tenant, rep, region_na):
    _outage(region=region_na, rep=rep)
    browser = _client(request.getfixturevalue(persona))
    page = browser.get(PLAN)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Emergency contacts" in text and 'data-testid="plan-outage"' in text
    # Read, not changed: no editing is offered while the outage lasts.
    assert reverse("continuity:item_create", args=["contacts"]) not in text
    printed = browser.get(PRINT)
    assert printed.status_code == 200 and 'data-testid="print-edition"' in printed.content.decode()
    pdf = browser.get(PDF)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_during_an_outage_editing_the_plan_is_refused_with_the_outage_page(tenant, tenant_admin, rep):
    _outage(tenant=tenant, rep=rep)
    browser = _client(tenant_admin)
    before = EmergencyContact.objects.filter(tenant=tenant).count()
    refused = browser.post(reverse("continuity:item_create", args=["contacts"]), {"name": "Pat", "phone": "+1555"})
    assert refused.status_code == 503
    assert "is in an outage" in refused.content.decode()
    assert EmergencyContact.objects.filter(tenant=tenant).count() == before
    # The outage page links to the plan.
    assert f'href="{PLAN}"' in browser.get(reverse("home")).content.decode()


def test_the_outage_leaves_other_pages_closed_and_other_tenants_alone(tenant, agent, other_admin, rep):
    _outage(tenant=tenant, rep=rep)
    assert _client(agent).get(reverse("continuity:versions")).status_code == 503
    other = _client(other_admin).get(PLAN)  # their own tenant's plan, not in outage
    assert other.status_code == 200 and 'data-testid="plan-outage"' not in other.content.decode()
    assert "Classics Inc." not in other.content.decode()


def test_the_plan_stays_closed_to_people_outside_the_tenant_during_an_outage(client, tenant, rep, region_na):
    _outage(region=region_na, rep=rep)
    assert client.get(PLAN).status_code == 302  # anonymous: sign in first
    assert _client(rep).get(PLAN).status_code == 404  # a representative who is not supporting the tenant


# --- the primary's region does not answer: the copy on the BCP tenant ----------------------------------------

@pytest.fixture
def synced(configured, sync_enabled, bcp_tenant):  # noqa: F811
    run = run_sync(configured)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return run


def _person(username) -> User:
    return User.objects.get(username=username, is_bcp_copy=False)


@pytest.mark.parametrize("username", ["alice", "andy", "sam"])
def test_with_the_primarys_region_down_everyone_reads_the_copy_on_the_bcp_tenant(synced, bcp_tenant, username):
    health.mark_down("na", "OperationalError: connection refused")
    browser = _client(_person(username))
    page = browser.get(PLAN)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="backup-copy"' in text
    assert f"Copy on “{bcp_tenant.name}” as of" in text
    assert f'<time datetime="{synced.as_of.isoformat(timespec="seconds")}' in text
    assert "Dana Duty" in text and "+14155550199" in text  # the emergency contact, from the copy
    assert "The plan can be read here but not changed until North America answers again." in text
    # Read-only: nothing to add, edit or mark reviewed.
    assert reverse("continuity:item_create", args=["contacts"]) not in text
    assert "Mark reviewed today" not in text


def test_the_print_view_and_pdf_of_the_copy_say_whose_copy_it_is(synced, bcp_tenant):
    health.mark_down("na", "test")
    browser = _client(_person("andy"))
    printed = browser.get(PRINT)
    assert printed.status_code == 200
    text = printed.content.decode()
    assert f"Copy on {bcp_tenant.name} as of" in text and 'data-testid="backup-copy"' in text
    assert "Dana Duty" in text
    pdf = browser.get(PDF)
    assert pdf.status_code == 200 and "-copy-" in pdf["Content-Disposition"]


def test_editing_with_the_primarys_region_down_is_refused_with_a_link_to_the_plan(synced):
    health.mark_down("na", "test")
    browser = _client(_person("alice"))
    refused = browser.get(reverse("continuity:item_create", args=["contacts"]))
    assert refused.status_code == 503
    text = refused.content.decode()
    assert "North America is not answering" in text and f'href="{PLAN}"' in text


def test_with_both_regions_down_the_plan_says_neither_can_be_read(synced, bcp_tenant):
    health.mark_down("na", "test")
    health.mark_down("eu", "test")
    browser = _client(_person("andy"))
    for url in (PLAN, PRINT, PDF):
        response = browser.get(url)
        assert response.status_code == 503
        text = response.content.decode()
        assert 'data-testid="plan-no-copy"' in text
        assert f"Its copy on the BCP tenant “{bcp_tenant.name}” cannot be read either" in text


def test_a_tenant_without_a_bcp_tenant_gets_the_region_page(tenant, agent):
    health.mark_down("na", "test")
    response = _client(agent).get(PLAN)
    assert response.status_code == 503
    assert 'data-testid="region-unavailable"' in response.content.decode()


def test_the_copy_is_read_only_before_any_sync_and_says_so(configured, bcp_tenant):  # noqa: F811
    health.mark_down("na", "test")
    text = _client(_person("andy")).get(PLAN).content.decode()
    assert "no sync has completed yet" in text


def test_another_tenants_administrator_never_sees_the_copy(synced, other_admin):
    health.mark_down("na", "test")
    text = _client(other_admin).get(PLAN).content.decode()
    assert 'data-testid="backup-copy"' not in text and "Dana Duty" not in text


def test_the_copy_note_is_in_german_for_a_german_speaker(synced, bcp_tenant):
    health.mark_down("na", "test")
    andy = _person("andy")
    andy.language = "de"
    andy.save(update_fields=["language"])
    text = _client(andy).get(PLAN).content.decode()
    assert f"Kopie auf „{bcp_tenant.name}“ mit Stand" in text


def test_a_change_made_after_the_sync_is_not_in_the_copy(synced, configured):  # noqa: F811
    services.section_item_create(tenant=configured, section_key=EmergencyContact.ENTITY_TYPE, actor=Actor.system(),
                                 values={"name": "Late Larry", "phone": "+14155550111"})
    health.mark_down("na", "test")
    assert "Late Larry" not in _client(_person("andy")).get(PLAN).content.decode()
