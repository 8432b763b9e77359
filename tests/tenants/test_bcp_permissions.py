"""Every BCP URL for every persona: only an account representative may know these pages exist."""

import pytest
from django.urls import reverse

from tests.factories import TenantFactory
from tests.permissions import GET, POST, Row, answers, ask, cases
from tests.tenants.bcp_helpers import bcp_tenant_fixture, make_mapping  # noqa: F401

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def rep_only(status):
    """Only an account representative may know these pages exist."""
    return answers(302, 404, 404, 404, 404, status)


# url name, method, the answers; given: which tenant, in which state (see places and prepare)
URLS = [
    Row("tenants:bcp_enable", GET, rep_only(200), given="unmapped"),
    Row("tenants:bcp_enable", POST, rep_only(200), given="unmapped"),
    Row("tenants:bcp_settings", GET, rep_only(200), given="in_wizard"),
    Row("tenants:bcp_settings", POST, rep_only(200), given="in_wizard"),
    Row("tenants:bcp_mapping", GET, rep_only(200), given="in_wizard"),
    Row("tenants:bcp_mapping", POST, rep_only(200), given="in_wizard"),
    Row("tenants:bcp_dr_tenants", GET, rep_only(200), given="unmapped"),
    Row("tenants:bcp_cancel", POST, rep_only(200), given="in_wizard"),
    Row("tenants:bcp_save", POST, rep_only(302), given="finished"),
    Row("tenants:bcp_passkey", GET, rep_only(200), given="mapped"),
    Row("tenants:bcp_passkey", POST, rep_only(200), given="mapped"),
    Row("tenants:bcp_disable", GET, rep_only(200), given="mapped"),
    Row("tenants:bcp_disable", POST, rep_only(302), given="mapped"),
    Row("tenants:applications", GET, rep_only(200), given="mapped"),
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


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_bcp_url_for_every_persona(as_persona, persona, places, bcp_tenant, row):
    client = as_persona(persona)
    tenant = places[row.given]
    prepared = prepare(client, row.given, tenant, bcp_tenant) if persona == "rep" else {}
    data = {"region": bcp_tenant.region.pk} if row.name == "tenants:bcp_dr_tenants" else {}
    ask(client, row, persona, args=[tenant.pk], data=prepared if row.method == POST else data, **HTMX)


@pytest.mark.parametrize("name", sorted({row.name for row in URLS} - {"tenants:applications"}))
def test_an_unknown_tenant_is_404_for_the_representative(client, rep, name):
    client.force_login(rep)
    for tenant_id in ("not-a-uuid", "7d3c3a0e-0000-4000-8000-000000000000"):
        path = reverse(name, args=[tenant_id])
        assert client.get(path).status_code in (404, 405)
        assert client.post(path).status_code in (404, 405)


def test_posts_need_the_csrf_token(rep, tenant):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post(reverse("tenants:bcp_enable", args=[tenant.pk])).status_code == 403
    assert client.post(reverse("tenants:bcp_save", args=[tenant.pk]), {"wizard_id": "x"}).status_code == 403
