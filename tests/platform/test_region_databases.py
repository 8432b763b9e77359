"""Where data lives (docs/architecture.md): the control plane, and a database per region. Each region's rows are
in its own database and nowhere else, a query that does not say where it goes is refused, and the pages that
show what lives in two databases show both."""

import html

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from audit.services import Actor
from bcp_project import regions
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import RegionUnknown, in_region
from bcp_project.regions.health import mark_down
from contactcenter import services
from contactcenter.models import AgentProfile, Team
from tenants.models import Region
from tenants.services import region_create, tenant_create


def test_each_tenants_rows_are_in_its_regions_database_only(tenant, other_tenant):
    services.team_create(tenant=tenant, name="Billing", actor=Actor.system())
    services.team_create(tenant=other_tenant, name="Northwind floor", actor=Actor.system())
    assert list(Team.objects.using("na").values_list("name", flat=True)) == ["Billing"]
    assert list(Team.objects.using("eu").values_list("name", flat=True)) == ["Northwind floor"]
    assert not Team.objects.using("apac").exists()
    # A filter by tenant goes to that tenant's region by itself, whatever region the code is in.
    with in_region("apac"):
        assert [t.name for t in Team.objects.filter(tenant=other_tenant)] == ["Northwind floor"]


def test_a_query_that_does_not_say_where_it_goes_is_refused():
    with pytest.raises(RegionUnknown):
        list(Team.objects.all())
    with in_region("eu"):
        assert list(Team.objects.all()) == []


def test_users_are_in_the_control_plane_and_their_agent_side_in_the_region(tenant, tenant_admin):
    role = tenant_admin.role
    user = services.agent_create(tenant=tenant, username="zoe", password="pw-1234567", role=role,
                                 actor=Actor(user=tenant_admin))
    assert User.objects.using("default").filter(pk=user.pk).exists()
    assert AgentProfile.objects.using("na").filter(user_id=user.pk).exists()
    assert not AgentProfile.objects.using("eu").filter(user_id=user.pk).exists()
    # The audit row of the agent side is in the region, beside the change it records.
    assert AuditEvent.objects.using("na").filter(action="agent.create", object_repr__contains="zoe").exists()
    assert not AuditEvent.objects.using("default").filter(action="agent.create").exists()
    # Deleting the user removes the agent side too, although no cascade crosses the two databases.
    services.agent_delete(user=user, actor=Actor(user=tenant_admin))
    assert not AgentProfile.objects.using("na").filter(user_id=user.pk).exists()


def test_a_region_without_a_database_is_refused_with_a_sentence(db):
    with pytest.raises(ApplicationError) as refused:
        region_create(name="South America", code="sa", actor=Actor.system())
    assert "has no database" in refused.value.message and "REGION_DATABASE_URLS" in refused.value.message
    assert not Region.objects.filter(code="sa").exists()
    stray = Region.objects.create(name="South America", code="sa")  # made behind the service's back
    with pytest.raises(ApplicationError, match="has no database"):
        tenant_create(name="Andes Care", region=stray, actor=Actor.system())
    assert regions.aliases() == list(settings.REGION_DATABASES)


def test_the_tm_audit_log_reads_every_database_and_names_one_that_does_not_answer(as_persona, tenant, other_tenant):
    services.team_create(tenant=tenant, name="Billing", actor=Actor.system())
    services.team_create(tenant=other_tenant, name="Northwind floor", actor=Actor.system())
    client = as_persona("rep")
    page = html.unescape(client.get(reverse("audit:list")).text)
    assert "Billing" in page and "Northwind floor" in page and "tenant.create" in page
    mark_down("eu", "test: taken down")
    page = html.unescape(client.get(reverse("audit:list")).text)
    assert "Billing" in page and "Northwind floor" not in page
    assert 'data-testid="audit-unavailable"' in page and "The audit events of Europe are not shown" in page


def test_a_region_in_the_directory_without_a_database_stops_migrate_with_what_to_set(db):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    Region.objects.create(name="South America", code="sa")  # e.g. a region whose URL was removed from the settings
    with pytest.raises(SystemCheckError, match="Region 'sa' .South America. is in the tenant directory but has no "
                                               "database") as stopped:
        call_command("check", databases=["default"])
    assert "REGION_DATABASE_URLS" in str(stopped.value)
