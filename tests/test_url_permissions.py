"""Every URL of the foundation, for every persona: who gets the page, who is sent to sign in, who gets 404.

A page someone may not know about answers 404, never 403, so that its existence is not revealed.
"""

import pytest
from django.test import Client
from django.utils import timezone

from bcp_project.models import Heartbeat
from tenants.models import Tenant
from tests.conftest import PERSONAS

OK, REDIRECT, NOT_FOUND, NOT_ALLOWED = 200, 302, 404, 405
TENANT_PAGE = "/tm/tenants/{tenant}/"
TENANT_APPS = "/tm/tenants/{tenant}/applications/"

# url -> the answer each persona gets, in the order of PERSONAS:
#        anonymous  agent      supervisor tenant_admin other_admin rep
EXPECTED_GET = {
    "/":                 (REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "/sign-in/":         (OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "/sign-out/":        (NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED),
    "/profile/":         (REDIRECT, OK, OK, OK, OK, OK),
    "/admin/":           (REDIRECT, NOT_FOUND, OK, OK, OK, NOT_FOUND),
    "/tm/tenants/":      (REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK),
    "/tm/tenants/new/":  (REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK),
    TENANT_PAGE:         (REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK),
    TENANT_APPS:         (REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK),
    "/tm/audit/":        (REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK),
    "/healthz":          (OK, OK, OK, OK, OK, OK),
}

# Where "/" sends each signed-in persona: the application they use most.
HOME = {
    "agent": "/profile/",
    "supervisor": "/admin/",
    "tenant_admin": "/admin/",
    "other_admin": "/admin/",
    "rep": "/tm/tenants/",
}

CASES = [
    pytest.param(url, persona, statuses[i], id=f"{persona}-GET-{url}")
    for url, statuses in EXPECTED_GET.items()
    for i, persona in enumerate(PERSONAS)
]


@pytest.fixture
def heartbeat(db):
    # /healthz is 200 only with a recent beat; the broker check needs nothing more in tests.
    Heartbeat.objects.update_or_create(name="celery", defaults={"beat_at": timezone.now()})


@pytest.mark.parametrize(("url", "persona", "expected"), CASES)
def test_get(as_persona, tenant, heartbeat, url, persona, expected):
    client = as_persona(persona)
    response = client.get(url.format(tenant=tenant.pk))
    assert response.status_code == expected, response.content[:300]
    if expected == REDIRECT:
        location = response.headers["Location"]
        if persona == "anonymous":
            assert location.startswith("/sign-in/?next=")
        elif url == "/":
            assert location == HOME[persona]
        elif url == "/sign-in/":
            assert location == "/"


EXPECTED_POST = {
    # url -> statuses per persona; the form data is valid, so the only thing that decides is who asks.
    "/tm/tenants/new/":  (REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, REDIRECT),
    "/profile/":         (REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "/healthz":          (NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED),
}


@pytest.mark.parametrize(("url", "persona", "expected"), [
    pytest.param(url, persona, statuses[i], id=f"{persona}-POST-{url}")
    for url, statuses in EXPECTED_POST.items()
    for i, persona in enumerate(PERSONAS)
])
def test_post(as_persona, tenant, region_eu, heartbeat, url, persona, expected):
    client = as_persona(persona)
    data = {"name": "Fabrikam", "region": region_eu.pk, "language": "de"}
    response = client.post(url, data)
    assert response.status_code == expected
    created = Tenant.objects.filter(name="Fabrikam").exists()
    assert created == (persona == "rep" and url == "/tm/tenants/new/")


def test_another_tenants_admin_cannot_reach_the_tm_page_of_their_own_tenant(client, other_admin, other_tenant):
    client.force_login(other_admin)
    assert client.get(f"/tm/tenants/{other_tenant.pk}/").status_code == NOT_FOUND


def test_a_tenant_administrator_sees_admin_for_their_own_tenant_only(client, tenant_admin, other_admin):
    client.force_login(tenant_admin)
    assert "Classics Inc." in client.get("/admin/").text
    client.force_login(other_admin)
    response = client.get("/admin/")
    assert "Northwind Support" in response.text and "Classics Inc." not in response.text


def test_a_user_without_a_role_has_no_admin(client, tenant):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="norole", tenant=tenant, role=None))
    assert client.get("/admin/").status_code == NOT_FOUND
    assert client.get("/").headers["Location"] == "/profile/"


def test_the_administrator_of_an_inactive_tenant_has_no_admin(client, tenant_admin, tenant):
    tenant.status = Tenant.Status.INACTIVE
    tenant.save(update_fields=["status"])
    client.force_login(tenant_admin)
    assert client.get("/admin/").status_code == NOT_FOUND


def test_creating_a_tenant_without_a_csrf_token_is_refused(rep, region_eu):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    response = client.post("/tm/tenants/new/", {"name": "Fabrikam", "region": region_eu.pk})
    assert response.status_code == 403
    assert not Tenant.objects.filter(name="Fabrikam").exists()


def test_creating_a_tenant_with_the_csrf_token_from_the_form_works(rep, region_eu):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    token = str(client.get("/tm/tenants/new/").context["csrf_token"])
    response = client.post("/tm/tenants/new/", {"name": "Fabrikam", "region": region_eu.pk,
                                                 "csrfmiddlewaretoken": token})
    assert response.status_code == REDIRECT
    assert Tenant.objects.filter(name="Fabrikam").exists()


def test_changing_the_language_without_a_csrf_token_is_refused(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post("/profile/", {"language": "de"}).status_code == 403
    agent.refresh_from_db()
    assert agent.language == "en"


def test_the_404_page_is_the_friendly_one(client, agent):
    client.force_login(agent)
    response = client.get("/tm/tenants/")
    assert response.status_code == NOT_FOUND
    assert "This page does not exist or you do not have access to it." in response.text
