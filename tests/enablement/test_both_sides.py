"""BC Enablement shows both sides of the pair (issue 18): each region's database answering or not and since when
(from the control plane), the platform status a representative set for each region and tenant, the active side,
and the age of the backup's copy in words; the readiness checks take them into account, and none reads as met
what could not be checked. Regions are the tests' SQLite databases, marked down as the region backends mark
them; statuses are set through the status service."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.services import Actor
from bcp_project.regions import health
from enablement import selectors, services
from status.models import StatusLevel
from status.services import platform_status_set
from sync.models import SyncRun
from tenants.models import BcpMapping
from tests.enablement.conftest import PASSKEY
from tests.enablement.test_region_down import alice, paired  # noqa: F401
from tests.queries import CaptureQueriesEverywhere

PAGE = reverse("enablement:page")


def _set(level, *, rep, region=None, tenant=None, message="Calls are not routed."):
    platform_status_set(region=region, tenant=tenant, level=level, message=message, actor=Actor(user=rep))


def _alice() -> User:
    return User.objects.get(username="alice", is_bcp_copy=False)


def _check(page: str, key: str) -> str:
    """The class of the readiness line `key` ("check-ok", "check-failed", "check-unknown", "check-reason")."""
    marker = f'data-testid="check-{key}"'
    assert marker in page, f"no check {key}"
    return page.split(marker)[0].rsplit('class="check ', 1)[1].split('"')[0]


@pytest.fixture
def copied(paired):  # noqa: F811
    """The last successful run holds the primary as it was 12 minutes ago."""
    run = SyncRun.objects.get(mapping=paired)
    run.source_as_of = timezone.now() - timedelta(minutes=12)
    run.save(update_fields=["source_as_of"])
    return run


def test_both_sides_show_their_tenant_region_database_status_and_the_age_of_the_copy(alice, copied):  # noqa: F811
    page = alice.get(PAGE).content.decode()
    assert 'data-testid="both-sides"' in page
    assert "Classics Inc. <span" in page.split('data-testid="side-primary-tenant">')[1][:60]  # the active side
    assert "Active" in page.split('data-testid="side-primary-tenant">')[1].split("</td>")[0]
    assert "Active" not in page.split('data-testid="side-secondary-tenant">')[1].split("</td>")[0]
    for side in ("primary", "secondary"):
        assert page.split(f'data-testid="side-{side}-database">')[1].startswith("Answering")
        assert page.split(f'data-testid="side-{side}-region-status">')[1].split("</td>")[0].count("Operational") == 1
    copy = page.split('data-testid="side-copy">')[1].split("</td>")[0]
    assert "The primary as of" in copy and "12 minutes ago, " in copy
    assert f'<time datetime="{copied.source_as_of.isoformat(timespec="seconds")}' in copy
    assert "North America" in page and "Europe" in page
    for key in ("bcp_region", "bcp_status"):
        assert _check(page, key) == "check-ok"


def test_the_primarys_region_down_is_the_reason_to_switch_not_a_check_met(alice, paired):  # noqa: F811
    health.mark_down("na", "OperationalError: connection refused")
    since = health.state("na").down_since
    health.forget()  # kept in the control plane, not only in a cache
    page = alice.get(PAGE).content.decode()
    database = page.split('data-testid="side-primary-database">')[1].split("</td>")[0]
    assert "Not answering since" in database and f'datetime="{since.isoformat(timespec="seconds")}' in database
    assert page.split('data-testid="side-secondary-database">')[1].startswith("Answering")
    assert _check(page, "primary_region") == "check-reason"
    assert (f"The database of North America, where “Classics Inc.” is kept, has not answered since "
            f"{since:%Y-%m-%d %H:%M} UTC. This is a reason to switch to “Classics Inc. BCP”.") in page
    # Nothing the primary's region is needed for reads as met or as unknown; the switch itself is not held up.
    state = selectors.readiness(mapping=paired)
    asked = {check.key for check in state.blocking + state.overridable}
    assert "primary_region" not in asked and not state.blocking
    assert not any(check.unknown for check in state.checks)


def test_a_switch_to_the_bcp_tenant_whose_region_is_down_is_refused_by_the_service(paired):  # noqa: F811
    health.mark_down("eu", "test")
    state = selectors.readiness(mapping=paired)
    assert [check.key for check in state.blocking] == ["bcp_region"]
    # What needs the backup's region is not met, it is unknown; nothing reads "met" that could not be checked.
    assert {check.key for check in state.checks if check.unknown} == {"sync_fresh", "sync_idle", "users"}
    with pytest.raises(services.SwitchRefused, match="A switch to it is refused until it answers"):
        services.tenant_switch(mapping=paired, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY,
                               actor=Actor(user=_alice()), force=True, reason="NA is down")
    paired.refresh_from_db()
    assert paired.active_side == BcpMapping.Side.PRIMARY


def test_the_copy_cannot_be_read_while_the_backups_region_is_down(alice, paired):  # noqa: F811
    health.mark_down("eu", "test")
    page = alice.get(PAGE).content.decode()
    assert "Cannot be read: the database of Europe is not answering." in page
    assert _check(page, "bcp_region") == "check-failed"


@pytest.mark.parametrize("on", ["region", "tenant"])
def test_an_outage_reported_for_the_bcp_tenant_needs_a_reason(on, paired, rep, region_eu, bcp_tenant):  # noqa: F811
    _set(StatusLevel.OUTAGE, rep=rep, **({"region": region_eu} if on == "region" else {"tenant": bcp_tenant}))
    state = selectors.readiness(mapping=paired)
    asked = {check.key: check for check in state.overridable}
    assert "bcp_status" in asked and not state.blocking
    assert "Outage: Calls are not routed." in asked["bcp_status"].text
    actor = Actor(user=_alice())
    with pytest.raises(services.NeedsReason):
        services.tenant_switch(mapping=paired, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY, actor=actor)
    result = services.tenant_switch(mapping=paired, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY, actor=actor,
                                    force=True, reason="The primary is worse off")
    assert result.changed and result.mapping.active_side == BcpMapping.Side.SECONDARY
    assert "bcp_status" in result.mapping.switches.get().switched_anyway


def test_a_degraded_bcp_tenant_is_said_but_does_not_hold_the_switch(alice, paired, rep, bcp_tenant):  # noqa: F811
    _set(StatusLevel.DEGRADED, rep=rep, tenant=bcp_tenant, message="Slow reports")
    page = alice.get(PAGE).content.decode()
    assert _check(page, "bcp_status") == "check-ok"
    assert "reports for the BCP tenant “Classics Inc. BCP”: Degraded: Slow reports." in page
    tenant_cell = page.split('data-testid="side-secondary-tenant-status">')[1].split("</td>")[0]
    assert "Degraded" in tenant_cell and "Slow reports" in tenant_cell and "<time" in tenant_cell


def test_an_outage_of_the_primarys_region_is_shown_with_its_message_as_the_reason(alice, rep, region_na):  # noqa: F811
    _set(StatusLevel.OUTAGE, rep=rep, region=region_na, message="Carrier failure in the east")
    page = alice.get(PAGE).content.decode()
    region_cell = page.split('data-testid="side-primary-region-status">')[1].split("</td>")[0]
    assert "Outage" in region_cell and "Carrier failure in the east" in region_cell
    assert _check(page, "primary_status") == "check-reason"
    assert "This is a reason to switch to “Classics Inc. BCP”." in page


def test_on_the_bcp_tenant_the_primary_down_warns_against_switching_back(paired):  # noqa: F811
    services.tenant_switch(mapping=paired, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY,
                           actor=Actor(user=_alice()), force=True, reason="A drill")
    health.mark_down("na", "test")
    paired.refresh_from_db()
    state = selectors.readiness(mapping=paired)
    reason = next(check for check in state.checks if check.key == "primary_region")
    assert reason.reason and "Switching back now would send everyone to a tenant that cannot be used." in reason.text
    assert state.backup.active and not state.primary.active


def test_the_page_costs_the_same_queries_whatever_the_state_of_the_sides(alice, paired, rep, region_na,  # noqa: F811
                                                                        bcp_tenant):
    def count() -> int:
        with CaptureQueriesEverywhere() as queries:
            assert alice.get(PAGE).status_code == 200
        return len(queries)

    alice.get(PAGE)  # fills the shared caches (routing epoch, pair message) that Redis keeps across requests
    calm = count()
    _set(StatusLevel.OUTAGE, rep=rep, region=region_na)
    _set(StatusLevel.DEGRADED, rep=rep, tenant=bcp_tenant)
    health.mark_down("na", "test")
    health.forget()
    assert count() == calm


def test_the_new_lines_are_in_german_for_a_german_speaker(alice, paired):  # noqa: F811
    health.mark_down("na", "test")
    admin = _alice()
    admin.language = "de"
    admin.save(update_fields=["language"])
    page = alice.get(PAGE).content.decode()
    assert "Beide Seiten" in page and "Antwortet nicht seit" in page
    assert "Dies ist ein Grund, zu „Classics Inc. BCP“ zu wechseln." in page


def test_on_the_bcp_side_the_readiness_says_what_matters_there(paired, copied):  # noqa: F811
    from accounts.roles import ADMINISTRATOR, CHANGE_BCP_ENABLEMENT, VIEW_BCP_ENABLEMENT
    from accounts.services import role_set_permissions
    from bcp_project.templatetags.times import when_text
    from tests.factories import role_of

    services.tenant_switch(mapping=paired, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY,
                           actor=Actor(user=_alice()), force=True, reason="A drill")
    paired.refresh_from_db()
    texts = {check.key: check for check in selectors.readiness(mapping=paired).checks}
    assert texts["sync_enabled"].ok and texts["sync_enabled"].text == (
        "Sync is enabled; it is paused while the BCP tenant is active and resumes when you switch back.")
    assert texts["sync_fresh"].ok and texts["sync_fresh"].text == (
        f"The BCP tenant holds the primary as of {when_text(copied.source_as_of)}.")
    # Switching back is done on the BCP tenant: who there can, not who on the primary.
    bcp = paired.secondary
    assert not texts["switch_back"].ok and f"Nobody on “{bcp.name}”" in texts["switch_back"].text
    role = role_of(bcp, ADMINISTRATOR)
    role_set_permissions(role=role, permissions=[CHANGE_BCP_ENABLEMENT],
                         scope=[VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT], actor=Actor.system())
    User.objects.filter(tenant=bcp, username="alice").update(role=role)
    texts = {check.key: check for check in selectors.readiness(mapping=paired).checks}
    assert texts["switch_back"].ok and texts["switch_back"].text == (
        f"1 user on “{bcp.name}” holds BCP Tenant Enablement Edit and can switch back.")


def test_the_customer_is_told_who_sets_the_statuses_and_the_representative_where(alice, paired, client, rep):  # noqa: F811
    hint = "The statuses are set by your account representative"
    assert hint in alice.get(PAGE).content.decode()
    client.force_login(rep)
    page = client.get(reverse("enablement:tm_page", args=[paired.primary_id])).content.decode()
    assert hint not in page
    assert f'You set the statuses on <a href="{reverse("status:list")}">Platform status</a>' in page
    User.objects.filter(pk=rep.pk).update(language="de")
    page = client.get(reverse("enablement:tm_page", args=[paired.primary_id])).content.decode()
    assert "Die Status setzen Sie unter" in page
