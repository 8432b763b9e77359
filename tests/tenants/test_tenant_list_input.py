from django.urls import reverse

from tenants.models import Tenant


def test_an_unknown_region_filter_lists_nothing_and_says_why(as_persona, rep, tenant, other_tenant):
    response = as_persona("rep").get(reverse("tenants:list"), {"region": "atlantis"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert tenant.name.encode() not in response.content


def test_the_htmx_table_carries_the_filter_error(as_persona, rep, tenant):
    response = as_persona("rep").get(reverse("tenants:list"), {"region": "atlantis"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert b"<html" not in response.content
    assert b'role="alert"' in response.content


def test_a_blank_create_post_shows_what_is_missing_and_saves_nothing(as_persona, rep, region_na):
    before = Tenant.objects.count()
    response = as_persona("rep").post(reverse("tenants:create"), {})
    assert response.status_code == 400
    assert b"Give the tenant a name." in response.content
    assert b"Choose the region the tenant is hosted in." in response.content
    assert Tenant.objects.count() == before
