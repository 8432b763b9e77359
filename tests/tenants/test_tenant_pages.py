"""Tenant Management pages: the tenants list, Create tenant and the tenant page's General tab."""

import uuid

import pytest
from django.conf import settings

from bcp_project.regions.health import mark_down
from tenants.models import BcpMapping, Tenant
from tests.auditlog import audit_events
from tests.factories import TenantFactory
from tests.queries import CaptureQueriesEverywhere
from tests.tenants.bcp_helpers import make_mapping

LIST = "/tm/tenants/"
CREATE = "/tm/tenants/new/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def signed_in_rep(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def some_tenants(region_na, region_eu):
    return {
        "classics": TenantFactory(name="Classics Inc.", region=region_na),
        "classics_bcp": TenantFactory(name="Classics Inc. BCP", region=region_eu),
        "northwind": TenantFactory(name="Northwind Support", region=region_na),
        "contoso": TenantFactory(name="Contoso Care", region=region_eu),
    }


def names_on(response) -> list[str]:
    return [tenant.name for tenant in response.context["page"].object_list]


def bulk_tenants(count, region, prefix="Bulk"):
    Tenant.objects.bulk_create(Tenant(name=f"{prefix} {n:05d}", region=region) for n in range(count))


# --- List: search, filter, htmx, pagination ---------------------------------------------------------------


def test_the_list_shows_every_tenant_by_name(signed_in_rep, some_tenants):
    response = signed_in_rep.get(LIST)
    assert response.status_code == 200
    assert names_on(response) == ["Classics Inc.", "Classics Inc. BCP", "Contoso Care", "Northwind Support"]
    assert "4 tenants" in response.text
    assert str(some_tenants["classics"].pk) in response.text


def test_search_by_name_ignores_case(signed_in_rep, some_tenants):
    response = signed_in_rep.get(LIST, {"q": "CLASSICS inc"})
    assert names_on(response) == ["Classics Inc.", "Classics Inc. BCP"]


def test_search_by_part_of_a_name(signed_in_rep, some_tenants):
    assert names_on(signed_in_rep.get(LIST, {"q": "wind"})) == ["Northwind Support"]


def test_search_by_the_full_tenant_id(signed_in_rep, some_tenants):
    contoso = some_tenants["contoso"]
    assert names_on(signed_in_rep.get(LIST, {"q": str(contoso.pk)})) == ["Contoso Care"]
    assert names_on(signed_in_rep.get(LIST, {"q": f"  {str(contoso.pk).upper()} "})) == ["Contoso Care"]


def test_an_unknown_tenant_id_finds_nothing_and_says_so(signed_in_rep, some_tenants):
    response = signed_in_rep.get(LIST, {"q": str(uuid.uuid4())})
    assert names_on(response) == []
    assert "No tenant matches your search." in response.text


def test_filter_by_region(signed_in_rep, some_tenants):
    assert names_on(signed_in_rep.get(LIST, {"region": "eu"})) == ["Classics Inc. BCP", "Contoso Care"]
    assert names_on(signed_in_rep.get(LIST, {"region": "na", "q": "classics"})) == ["Classics Inc."]


def test_the_tenants_on_their_backup_and_those_whose_region_does_not_answer(signed_in_rep, some_tenants):
    """During an incident a representative sees the platform's state: which primaries are on their BCP tenant,
    and which tenants' region does not answer."""
    mapping, _passkey = make_mapping(some_tenants["classics"], some_tenants["classics_bcp"])
    BcpMapping.objects.filter(pk=mapping.pk).update(active_side=BcpMapping.Side.SECONDARY)
    response = signed_in_rep.get(LIST, {"state": "on_backup"})
    assert names_on(response) == ["Classics Inc."] and 'data-testid="on-bcp"' in response.text
    assert 'data-testid="on-bcp"' not in signed_in_rep.get(LIST, {"q": "northwind"}).text
    assert names_on(signed_in_rep.get(LIST, {"state": "not_answering"})) == []
    mark_down("na", "test: taken down")
    assert names_on(signed_in_rep.get(LIST, {"state": "not_answering"})) == ["Classics Inc.", "Northwind Support"]
    refused = signed_in_rep.get(LIST, {"state": "sideways"})
    assert refused.status_code == 400 and "Choose a state from the list." in refused.text


def test_an_htmx_request_gets_only_the_table(signed_in_rep, some_tenants):
    response = signed_in_rep.get(LIST, {"q": "classics"}, **HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<table" in response.text
    assert "Classics Inc. BCP" in response.text
    assert "Northwind Support" not in response.text


def test_a_boosted_htmx_request_gets_the_whole_page(signed_in_rep, some_tenants):
    response = signed_in_rep.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    assert "<html" in response.text


def test_pagination_keeps_the_filters(signed_in_rep, region_na, region_eu):
    bulk_tenants(settings.PAGE_SIZE + 5, region_na, prefix="Alpha")
    bulk_tenants(3, region_eu, prefix="Beta")
    first = signed_in_rep.get(LIST, {"region": "na"})
    assert len(names_on(first)) == settings.PAGE_SIZE
    assert "Page 1 of 2" in first.text
    assert 'href="?region=na&amp;page=2"' in first.text

    second = signed_in_rep.get(LIST, {"region": "na", "page": 2}, **HTMX)
    assert names_on(second) == [f"Alpha {n:05d}" for n in range(settings.PAGE_SIZE, settings.PAGE_SIZE + 5)]
    assert "<html" not in second.text
    assert 'rel="prev"' in second.text


@pytest.mark.parametrize("page", ["999", "abc", "-1"])
def test_a_page_out_of_range_shows_a_real_page(signed_in_rep, some_tenants, page):
    response = signed_in_rep.get(LIST, {"page": page})
    assert response.status_code == 200
    assert names_on(response)


def test_the_list_when_there_are_no_tenants(signed_in_rep):
    response = signed_in_rep.get(LIST)
    assert "There are no tenants yet." in response.text


# --- Query count: the same for 10 and 1,000 tenants -------------------------------------------------------

# Measured at 10 tenants: session, user, the user's and its groups' permissions, regions, count, the regions'
# health (which tenants' region does not answer), one page.
LIST_QUERIES = 8


@pytest.mark.parametrize("count", [10, 1000])
def test_the_list_uses_the_same_number_of_queries_however_many_tenants(signed_in_rep, region_na,
                                                                      django_assert_num_queries, count):
    bulk_tenants(count, region_na)
    with django_assert_num_queries(LIST_QUERIES):
        response = signed_in_rep.get(LIST, {"region": "na"})
    assert response.status_code == 200
    assert len(names_on(response)) == min(settings.PAGE_SIZE, count)


def test_searching_costs_no_more_than_listing(signed_in_rep, region_na):
    bulk_tenants(50, region_na)
    with CaptureQueriesEverywhere() as queries:
        signed_in_rep.get(LIST, {"q": "bulk 0001", "region": "na"}, **HTMX)
    assert len(queries) <= LIST_QUERIES


# --- Create ------------------------------------------------------------------------------------------------


def test_the_create_page_offers_the_regions(signed_in_rep, region_na, region_eu):
    response = signed_in_rep.get(CREATE)
    assert response.status_code == 200
    assert ">Europe</option>" in response.text and ">North America</option>" in response.text


def test_create_a_tenant(signed_in_rep, rep, region_eu):
    response = signed_in_rep.post(CREATE, {"name": "  Classics   Inc.  BCP ", "region": region_eu.pk}, follow=True)
    tenant = Tenant.objects.get()
    assert tenant.name == "Classics Inc. BCP"
    assert tenant.region == region_eu
    assert response.redirect_chain == [(f"/tm/tenants/{tenant.pk}/", 302)]
    assert "Tenant “Classics Inc. BCP” is created." in response.text
    assert f'data-testid="tenant-id">{tenant.pk}<' in response.text
    assert 'aria-current="page">General<' in response.text
    event = audit_events().get(action="tenant.create")
    assert event.actor == rep
    assert event.tenant == tenant
    assert event.changes == {"name": "Classics Inc. BCP", "region": "eu"}


def test_a_new_tenant_starts_with_its_default_roles(signed_in_rep, region_eu):
    signed_in_rep.post(CREATE, {"name": "Fabrikam", "region": region_eu.pk})
    tenant = Tenant.objects.get(name="Fabrikam")
    assert sorted(tenant.roles.values_list("name", flat=True)) == ["Administrator", "Agent", "Supervisor"]


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_name_is_refused_and_nothing_is_saved(signed_in_rep, region_eu, name):
    response = signed_in_rep.post(CREATE, {"name": name, "region": region_eu.pk})
    assert response.status_code == 400
    assert "Give the tenant a name." in response.text
    assert not Tenant.objects.exists()
    assert not audit_events().filter(action="tenant.create").exists()


@pytest.mark.parametrize("name", ["Classics Inc.", "classics inc.", "  CLASSICS   inc. "])
def test_a_duplicate_name_is_refused_and_nothing_is_saved(signed_in_rep, tenant, region_eu, name):
    before = audit_events().count()
    response = signed_in_rep.post(CREATE, {"name": name, "region": region_eu.pk})
    assert response.status_code == 400
    assert "already exists. Choose another name." in response.text
    assert Tenant.objects.count() == 1
    assert audit_events().count() == before


def test_a_duplicate_name_is_refused_in_german_too(client, rep, tenant, region_eu):
    rep.language = "de"
    rep.save(update_fields=["language"])
    client.force_login(rep)
    response = client.post(CREATE, {"name": "classics inc.", "region": region_eu.pk})
    assert response.status_code == 400
    assert "Ein Mandant namens „classics inc.“ existiert bereits." in response.text


@pytest.mark.parametrize("region", ["999999", "not-a-number", ""])
def test_an_unknown_region_is_refused(signed_in_rep, region_eu, region):
    response = signed_in_rep.post(CREATE, {"name": "Fabrikam", "region": region})
    assert response.status_code == 400
    assert ("That region does not exist." in response.text) or ("Choose the region" in response.text)
    assert not Tenant.objects.exists()


def test_a_name_that_is_too_long_is_refused(signed_in_rep, region_eu):
    response = signed_in_rep.post(CREATE, {"name": "x" * 121, "region": region_eu.pk})
    assert response.status_code == 400
    assert not Tenant.objects.exists()


def test_create_from_htmx_answers_with_a_client_redirect(signed_in_rep, region_eu):
    response = signed_in_rep.post(CREATE, {"name": "Fabrikam", "region": region_eu.pk}, **HTMX)
    tenant = Tenant.objects.get(name="Fabrikam")
    assert response.headers["HX-Redirect"] == f"/tm/tenants/{tenant.pk}/"


# --- Tenant page -------------------------------------------------------------------------------------------


def test_the_general_tab_shows_id_name_region_and_status(signed_in_rep, tenant):
    response = signed_in_rep.get(f"/tm/tenants/{tenant.pk}/")
    assert response.status_code == 200
    assert f'data-testid="tenant-id">{tenant.pk}<' in response.text
    for value in ("Classics Inc.", "North America", "Active", "Copy ID"):
        assert value in response.text


def test_the_applications_tab_lists_bcp(signed_in_rep, tenant):
    response = signed_in_rep.get(f"/tm/tenants/{tenant.pk}/applications/")
    assert response.status_code == 200
    assert "Business Continuity Plan (BCP)" in response.text
    assert 'aria-current="page">Applications & Features<' in response.text


def test_the_tenant_id_is_accepted_in_upper_case(signed_in_rep, tenant):
    assert signed_in_rep.get(f"/tm/tenants/{str(tenant.pk).upper()}/").status_code == 200


@pytest.mark.parametrize("tenant_id", ["not-a-uuid", "123", "0b6f3c1e-9d2a-4c4e-8a51-2f7d9e3b6a10"])
def test_a_bad_or_unknown_tenant_id_is_404(signed_in_rep, tenant, tenant_id):
    assert signed_in_rep.get(f"/tm/tenants/{tenant_id}/").status_code == 404
    assert signed_in_rep.get(f"/tm/tenants/{tenant_id}/applications/").status_code == 404


def test_when_two_people_create_the_same_name_at_once_the_database_decides(signed_in_rep, tenant, region_eu,
                                                                          monkeypatch):
    from django.db.models.query import QuerySet

    # The second request passed the friendly check before the first one committed.
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    response = signed_in_rep.post(CREATE, {"name": "CLASSICS INC.", "region": region_eu.pk})
    assert response.status_code == 400
    assert "already exists. Choose another name." in response.text
    assert Tenant.objects.count() == 1
