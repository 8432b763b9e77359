"""A region is named in the reader's language where the platform seeded it, and by its stored name otherwise."""

from django.urls import reverse
from django.utils import translation

from bcp_project.regions import region_label, region_name
from tests.factories import RegionFactory, TenantFactory


def test_the_seeded_regions_are_translated_and_any_other_keeps_its_name(db):
    RegionFactory(name="North America", code="na")
    RegionFactory(name="Latin America", code="latam")
    with translation.override("de"):
        assert region_label("na") == "Nordamerika"
        assert region_label("latam") == "Latin America"
        assert region_name("eu", "Europe") == "Europa" and region_name("apac", "Asia Pacific") == "Asien-Pazifik"
        # A representative who renamed a seeded region sees that name, in every language.
        assert region_name("eu", "Europe West") == "Europe West"
    with translation.override("en"):
        assert region_label("na") == "North America"


def test_admin_home_names_the_region_in_the_readers_language(as_persona, tenant_admin, tenant):
    page = as_persona("tenant_admin").get(reverse("accounts:admin_home")).text
    assert "<dd>North America</dd>" in page
    tenant_admin.language = "de"
    tenant_admin.save(update_fields=["language"])
    page = as_persona("tenant_admin").get(reverse("accounts:admin_home")).text
    assert "<dd>Nordamerika</dd>" in page


def test_tenant_management_names_the_regions_in_german(client, rep, region_na):
    TenantFactory(name="Fabrikam", region=RegionFactory(name="Singapore", code="apac"))
    TenantFactory(name="Contoso", region=region_na)
    rep.language = "de"
    rep.save(update_fields=["language"])
    client.force_login(rep)
    page = client.get(reverse("tenants:list")).text
    assert "Nordamerika" in page and "Singapore" in page and "North America" not in page
