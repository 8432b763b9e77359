"""Impersonate & Support: services, middleware expiry, views, the permission matrix and the audit trail."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from accounts.roles import ADMINISTRATOR
from tenants.models import Tenant
from tenants.support.selectors import SESSION_KEY
from tenants.support.services import ImpersonationError, impersonation_end, impersonation_start
from tests.auditlog import audit_events
from tests.factories import role_of
from tests.permissions import GET, POST, Row, answers, ask, cases


def _request(user):
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.session.save()
    request._messages = FallbackStorage(request)
    request.user = user
    request.impersonation = None
    return request


def _start(client, tenant):
    return client.post(reverse("support:start", args=[tenant.pk]))


def _move_clock_back(client, minutes):
    session = client.session
    data = session[SESSION_KEY]
    started = timezone.now() - timedelta(minutes=minutes)
    data["started_at"] = started.isoformat()
    session[SESSION_KEY] = data
    session.save()


@pytest.fixture(autouse=True)
def _english():
    # Service messages follow the active language; another test may have left German active on this thread.
    with translation.override("en"):
        yield


# --- services -------------------------------------------------------------------------------------------


def test_it_starts_and_remembers_tenant_and_start_time_in_the_session(rep, tenant):
    request = _request(rep)
    before = timezone.now()

    impersonation = impersonation_start(request=request, tenant=tenant)

    assert request.impersonation is impersonation
    assert impersonation.tenant == tenant
    assert before <= impersonation.started_at <= timezone.now()
    assert impersonation.expires_at == impersonation.started_at + settings.IMPERSONATION_MAX_AGE
    assert request.session[SESSION_KEY]["tenant_id"] == str(tenant.pk)
    assert request.session[SESSION_KEY]["started_at"] == impersonation.started_at.isoformat()
    assert impersonation.describe() == "rep acting in tenant Classics Inc."


def test_it_audits_start_and_end_as_the_representative_acting_in_the_tenant(rep, tenant):
    request = _request(rep)
    impersonation_start(request=request, tenant=tenant)
    ended = impersonation_end(request=request)

    assert ended.tenant == tenant
    assert request.impersonation is None
    assert SESSION_KEY not in request.session
    events = list(audit_events().filter(action__startswith="impersonation.").order_by("id"))
    assert [e.action for e in events] == ["impersonation.start", "impersonation.end"]
    for event in events:
        assert event.actor == rep
        assert event.tenant == tenant
        assert event.acting_as == "rep acting in tenant Classics Inc."
    assert events[1].changes["reason"] == "manual"


def test_it_refuses_an_inactive_tenant(rep, tenant):
    tenant.status = Tenant.Status.INACTIVE
    tenant.save()
    request = _request(rep)

    with pytest.raises(ImpersonationError, match="inactive"):
        impersonation_start(request=request, tenant=tenant)
    assert SESSION_KEY not in request.session
    assert not audit_events().filter(action="impersonation.start").exists()


def test_it_refuses_someone_who_is_not_a_representative(tenant_admin, tenant):
    with pytest.raises(ImpersonationError):
        impersonation_start(request=_request(tenant_admin), tenant=tenant)


def test_it_ends_the_running_impersonation_when_another_starts(rep, tenant, other_tenant):
    request = _request(rep)
    impersonation_start(request=request, tenant=tenant)
    impersonation_start(request=request, tenant=other_tenant)

    assert request.impersonation.tenant == other_tenant
    end = audit_events().get(action="impersonation.end")
    assert end.tenant == tenant and end.changes["reason"] == "replaced"


def test_ending_without_an_impersonation_does_nothing(rep):
    assert impersonation_end(request=_request(rep)) is None
    assert not audit_events().filter(action="impersonation.end").exists()


# --- views and middleware ----------------------------------------------------------------------------------


def test_it_opens_the_admin_application_with_the_banner(client, rep, tenant):
    client.force_login(rep)
    response = _start(client, tenant)
    assert response.status_code == 302 and response.url == reverse("accounts:admin_home")

    page = client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "banner-warning" in html and "Classics Inc." in html
    assert reverse("support:end") in html
    assert "Roles and Permissions" in html


def test_the_confirmation_page_explains_and_asks(client, rep, tenant):
    client.force_login(rep)
    response = client.get(reverse("support:start", args=[tenant.pk]))
    assert response.status_code == 200
    assert "Confirm and open Admin" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_an_inactive_tenant_shows_why_and_cannot_be_started(client, rep, tenant):
    tenant.status = Tenant.Status.INACTIVE
    tenant.save()
    client.force_login(rep)

    page = client.get(reverse("support:start", args=[tenant.pk]))
    assert page.status_code == 200
    assert "inactive" in page.content.decode() and "Confirm and open Admin" not in page.content.decode()
    response = _start(client, tenant)
    assert response.status_code == 400
    assert SESSION_KEY not in client.session


def test_end_closes_it_and_returns_to_the_tenant(client, rep, tenant):
    client.force_login(rep)
    _start(client, tenant)

    response = client.post(reverse("support:end"))

    assert response.status_code == 302 and response.url == reverse("tenants:detail", args=[tenant.pk])
    assert SESSION_KEY not in client.session
    assert client.get(reverse("accounts:admin_home")).status_code == 404
    assert audit_events().filter(action="impersonation.end", changes__reason="manual").count() == 1


def test_signing_out_ends_it_on_the_record(client, rep, tenant):
    client.force_login(rep)
    _start(client, tenant)
    client.post(reverse("accounts:logout"))
    event = audit_events().get(action="impersonation.end")
    assert event.changes["reason"] == "signed_out" and event.actor == rep


def test_end_is_post_only(client, rep, tenant):
    client.force_login(rep)
    _start(client, tenant)
    assert client.get(reverse("support:end")).status_code == 405
    assert SESSION_KEY in client.session


def test_it_ends_by_itself_after_the_maximum_age_and_says_so(client, rep, tenant):
    client.force_login(rep)
    _start(client, tenant)
    _move_clock_back(client, 59)
    assert client.get(reverse("accounts:admin_home")).status_code == 200

    _move_clock_back(client, 61)
    page = client.get(reverse("tenants:list"))

    assert page.status_code == 200
    assert SESSION_KEY not in client.session
    assert "ended after 60 minutes" in page.content.decode()
    event = audit_events().get(action="impersonation.end")
    assert event.changes["reason"] == "expired"
    assert event.acting_as == "rep acting in tenant Classics Inc."
    assert client.get(reverse("accounts:admin_home")).status_code == 404


def test_it_ends_when_the_tenant_becomes_inactive(client, rep, tenant):
    client.force_login(rep)
    _start(client, tenant)
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.INACTIVE)

    page = client.get(reverse("tenants:list"))

    assert SESSION_KEY not in client.session
    assert "no longer active" in page.content.decode()
    assert audit_events().get(action="impersonation.end").changes["reason"] == "tenant_unavailable"


def test_a_stale_session_key_gives_nobody_else_admin_access(client, agent, tenant):
    client.force_login(agent)
    session = client.session
    session[SESSION_KEY] = {"tenant_id": str(tenant.pk), "started_at": timezone.now().isoformat()}
    session.save()

    assert client.get(reverse("accounts:admin_home")).status_code == 404
    assert SESSION_KEY not in client.session


def test_changes_made_while_impersonating_are_audited_as_acting_in_the_tenant(client, rep, tenant):
    client.force_login(rep)
    _start(client, tenant)
    role = role_of(tenant, ADMINISTRATOR)

    response = client.post(reverse("accounts:role_permissions", args=[role.pk, "bcp"]),
                           {"view_bcp_configurations": "on"})

    assert response.status_code == 302
    event = audit_events().get(action="role.permissions_change")
    assert event.actor == rep
    assert event.acting_as == "rep acting in tenant Classics Inc."
    assert event.tenant == tenant


def test_the_options_menu_is_on_each_list_row_and_on_the_tenant_page(client, rep, tenant, other_tenant):
    client.force_login(rep)
    listing = client.get(reverse("tenants:list")).content.decode()
    for t in (tenant, other_tenant):
        assert reverse("support:start", args=[t.pk]) in listing
    detail = client.get(reverse("tenants:detail", args=[tenant.pk])).content.decode()
    assert reverse("support:start", args=[tenant.pk]) in detail
    assert "Impersonate &amp; Support" in detail or "Impersonate & Support" in detail


# --- permission matrix -----------------------------------------------------------------------------------------


# url name, method, the answers: only a representative may know these pages exist. Starting and ending redirect
# the representative; ending is a POST, so a GET of it is 405 for them (and 404 for the rest).
URLS = [
    Row("support:start", GET, answers(302, 404, 404, 404, 404, 200)),
    Row("support:start", POST, answers(302, 404, 404, 404, 404, 302)),
    Row("support:end", POST, answers(302, 404, 404, 404, 404, 302)),
    Row("support:end", GET, answers(302, 404, 404, 404, 404, 405)),
]


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_support_url_for_every_persona(as_persona, persona, tenant, row):
    client = as_persona(persona)
    ask(client, row, persona, args=[tenant.pk] if row.name == "support:start" else [])
    if (row.name, row.method) == ("support:start", POST):
        assert (SESSION_KEY in client.session) == (persona == "rep")


def test_an_unknown_tenant_is_404(client, rep):
    client.force_login(rep)
    assert client.get(reverse("support:start", args=["not-a-uuid"])).status_code == 404
    assert client.get(reverse("support:start", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404


def test_start_and_end_need_the_csrf_token(rep, tenant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post(reverse("support:start", args=[tenant.pk])).status_code == 403
    assert SESSION_KEY not in client.session

    client.get(reverse("support:start", args=[tenant.pk]))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert client.post(reverse("support:start", args=[tenant.pk]), {"csrfmiddlewaretoken": token}).status_code == 302
    assert client.post(reverse("support:end")).status_code == 403
    assert SESSION_KEY in client.session
