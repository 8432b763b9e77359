"""Every BCP URL for every persona: only an account representative may know these pages exist."""

import pytest
from django.urls import reverse

from tests.conftest import PERSONAS
from tests.factories import TenantFactory
from tests.tenants.bcp_helpers import bcp_tenant_fixture, make_mapping  # noqa: F401

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}

# (url name, method, which tenant, what the representative gets)
URLS = [
    ("bcp_enable", "get", "unmapped", 200),
    ("bcp_enable", "post", "unmapped", 200),
    ("bcp_settings", "get", "in_wizard", 200),
    ("bcp_settings", "post", "in_wizard", 200),
    ("bcp_mapping", "get", "in_wizard", 200),
    ("bcp_mapping", "post", "in_wizard", 200),
    ("bcp_dr_tenants", "get", "unmapped", 200),
    ("bcp_cancel", "post", "in_wizard", 200),
    ("bcp_save", "post", "finished", 302),
    ("bcp_passkey", "get", "mapped", 200),
    ("bcp_passkey", "post", "mapped", 200),
    ("bcp_disable", "get", "mapped", 200),
    ("bcp_disable", "post", "mapped", 302),
    ("applications", "get", "mapped", 200),
]


@pytest.fixture
def places(tenant, bcp_tenant, region_na):
    """The persona fixtures' tenant is the unmapped one; a separate pair is already mapped."""
    mapped, _ = make_mapping(TenantFactory(name="Mapped primary", region=region_na),
                             TenantFactory(name="Mapped backup", region=bcp_tenant.region))
    return {"unmapped": tenant, "in_wizard": tenant, "finished": tenant, "mapped": mapped.primary}


def prepare(client, place, tenant, bcp_tenant):
    """For the representative: bring the wizard to the state the URL expects."""
    if place in ("in_wizard", "finished"):
        client.post(reverse("tenants:bcp_enable", args=[tenant.pk]))
        wizard_id = client.session[f"bcp_wizard:{tenant.pk}"]["id"]
        client.post(reverse("tenants:bcp_settings", args=[tenant.pk]),
                    {"wizard_id": wizard_id, "configurations": "on", "enablement": "on"})
        data = {"wizard_id": wizard_id, "region": bcp_tenant.region.pk, "dr_tenant": str(bcp_tenant.pk)}
        client.post(reverse("tenants:bcp_mapping", args=[tenant.pk]), {**data, "action": "validate"})
        if place == "finished":
            client.post(reverse("tenants:bcp_mapping", args=[tenant.pk]), {**data, "action": "passkey"})
            client.post(reverse("tenants:bcp_mapping", args=[tenant.pk]), {**data, "action": "finish"})
        return {**data, "action": "validate", "configurations": "on", "enablement": "on"}
    return {}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "place", "rep_status"), URLS)
def test_every_bcp_url_for_every_persona(as_persona, persona, places, bcp_tenant, name, method, place, rep_status):
    client = as_persona(persona)
    tenant = places[place]
    data = prepare(client, place, tenant, bcp_tenant) if persona == "rep" else {}
    path = reverse(f"tenants:{name}", args=[tenant.pk])
    if name == "bcp_dr_tenants":
        path += f"?region={bcp_tenant.region.pk}"
    response = getattr(client, method)(path, data, **HTMX) if method == "post" else client.get(path, **HTMX)
    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login") + "?next=")
    elif persona == "rep":
        expected = 200 if rep_status == 302 and "HX-Redirect" in response else rep_status
        assert response.status_code == expected, response.content[:500]
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("name", sorted({u[0] for u in URLS} - {"applications"}))
def test_an_unknown_tenant_is_404_for_the_representative(client, rep, name):
    client.force_login(rep)
    for tenant_id in ("not-a-uuid", "7d3c3a0e-0000-4000-8000-000000000000"):
        path = reverse(f"tenants:{name}", args=[tenant_id])
        assert client.get(path).status_code in (404, 405)
        assert client.post(path).status_code in (404, 405)


def test_posts_need_the_csrf_token(rep, tenant):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post(reverse("tenants:bcp_enable", args=[tenant.pk])).status_code == 403
    assert client.post(reverse("tenants:bcp_save", args=[tenant.pk]), {"wizard_id": "x"}).status_code == 403
