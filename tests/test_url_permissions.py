"""Every URL of the foundation, for every persona: who gets the page, who is sent to sign in, who gets 404.

A page someone may not know about answers 404, never 403, so that its existence is not revealed.
"""

import pytest
from django.test import Client
from django.utils import timezone

from bcp_project.models import Heartbeat
from tenants.models import Tenant
from tests.permissions import GET, NOT_ALLOWED, NOT_FOUND, OK, POST, REDIRECT, Row, answers, ask, cases

# url name, method, then the answer per persona in the order of PERSONAS: anonymous, agent, supervisor,
# tenant_admin, other_admin, rep.
URLS = [
    Row("home", GET,                answers(REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    Row("accounts:login", GET,      answers(OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT)),
    Row("accounts:logout", GET,     answers(*[NOT_ALLOWED] * 6)),
    Row("accounts:profile", GET,    answers(REDIRECT, OK, OK, OK, OK, OK)),
    Row("accounts:admin_home", GET, answers(REDIRECT, NOT_FOUND, OK, OK, OK, NOT_FOUND)),
    Row("tenants:list", GET,        answers(REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    Row("tenants:create", GET,      answers(REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    Row("tenants:detail", GET,      answers(REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    Row("tenants:applications", GET, answers(REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    Row("audit:list", GET,          answers(REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    Row("healthz", GET,             answers(OK, OK, OK, OK, OK, OK)),
    # The form data is valid, so the only thing that decides is who asks.
    Row("tenants:create", POST,     answers(REDIRECT, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, REDIRECT)),
    Row("accounts:profile", POST,   answers(*[REDIRECT] * 6)),
    Row("accounts:profile_switch_emails", POST, answers(*[REDIRECT] * 6)),
    Row("healthz", POST,            answers(*[NOT_ALLOWED] * 6)),
]
TENANT_IN_PATH = {"tenants:detail", "tenants:applications"}

# Where "/" sends each signed-in persona: the application they use most.
HOME = {
    "agent": "/profile/",
    "supervisor": "/admin/",
    "tenant_admin": "/admin/",
    "other_admin": "/admin/",
    "rep": "/tm/tenants/",
}


@pytest.fixture
def heartbeat(db):
    # /healthz is 200 only with a recent beat; the broker check needs nothing more in tests.
    Heartbeat.objects.update_or_create(name="celery", defaults={"beat_at": timezone.now()})


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_url_for_every_persona(as_persona, tenant, region_eu, heartbeat, row, persona):
    client = as_persona(persona)
    data = {"name": "Fabrikam", "region": region_eu.pk, "language": "de"} if row.method == POST else {}
    response = ask(client, row, persona, args=[tenant.pk] if row.name in TENANT_IN_PATH else [], data=data)
    if response.status_code == REDIRECT and persona != "anonymous" and row.method == GET:
        if row.name == "home":
            assert response["Location"] == HOME[persona]
        elif row.name == "accounts:login":
            assert response["Location"] == "/"
    if row.method == POST:
        created = Tenant.objects.filter(name="Fabrikam").exists()
        assert created == (persona == "rep" and row.name == "tenants:create")


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
