from django.urls import reverse

from tests.factories import TenantFactory
from tests.tenants.bcp_helpers import make_mapping


def test_overview_says_the_tenant_has_no_bcp_tenant_yet(as_persona, tenant_admin):
    response = as_persona("tenant_admin").get(reverse("accounts:admin_home"))
    assert response.status_code == 200
    assert "has no BCP tenant yet" in response.text
    assert "Administrator" in response.text


def test_overview_names_the_bcp_tenant_of_a_mapped_primary(as_persona, tenant_admin, tenant, region_eu):
    backup = TenantFactory(name="Classics Inc. BCP", region=region_eu)
    make_mapping(tenant, backup)
    response = as_persona("tenant_admin").get(reverse("accounts:admin_home"))
    assert "Its BCP tenant is “Classics Inc. BCP” (Europe)." in response.text
    assert "The primary tenant is active." in response.text


def test_overview_costs_the_same_queries_with_or_without_a_mapping(as_persona, tenant_admin, tenant, region_eu,
                                                                   django_assert_max_num_queries):
    client = as_persona("tenant_admin")
    with django_assert_max_num_queries(12):
        client.get(reverse("accounts:admin_home"))
    make_mapping(tenant, TenantFactory(name="Classics Inc. BCP", region=region_eu))
    with django_assert_max_num_queries(12):
        client.get(reverse("accounts:admin_home"))


def test_the_header_marks_admin_as_the_current_application_on_every_admin_page(as_persona, tenant_admin):
    client = as_persona("tenant_admin")
    for url in [reverse("accounts:admin_home"), reverse("accounts:role_list"), reverse("contactcenter:skill_list")]:
        header = client.get(url).text.split("</header>")[0]
        assert 'aria-current="page">Admin</a>' in header, url
