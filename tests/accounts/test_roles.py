"""Roles and Permissions: services, every URL for every persona, Edit-implies-View, the last-manager rule,
CSRF and a pinned query count on the list."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts import roles as r
from accounts.models import Role
from accounts.services import RoleError, role_create, role_delete, role_permissions, role_set_permissions, role_update
from audit.services import Actor
from bcp_project import permissions as p
from tenants.models import TenantGroupObjectPermission
from tests.auditlog import audit_events
from tests.factories import UserFactory, role_of
from tests.permissions import GET, POST, Row, answers, ask, cases
from tests.queries import CaptureQueriesEverywhere

BCP_ALL = {p.VIEW_BCP_CONFIGURATIONS, p.CHANGE_BCP_CONFIGURATIONS, p.VIEW_BCP_ENABLEMENT, p.CHANGE_BCP_ENABLEMENT}


@pytest.fixture
def admin_role(tenant):
    return role_of(tenant, r.ADMINISTRATOR)


@pytest.fixture
def impersonating(client, rep, tenant):
    client.force_login(rep)
    assert client.post(reverse("support:start", args=[tenant.pk])).status_code == 302
    return client


@pytest.fixture(autouse=True)
def _english():
    # Service messages follow the active language; another test may have left German active on this thread.
    with translation.override("en"):
        yield


# --- services ---------------------------------------------------------------------------------------------------


def test_it_stores_permissions_as_guardian_object_permissions_of_the_role_group(tenant, admin_role):
    role_set_permissions(role=admin_role, permissions=role_permissions(role=admin_role) | {p.VIEW_BCP_ENABLEMENT},
                         actor=Actor.system())

    rows = TenantGroupObjectPermission.objects.filter(group=admin_role.group, content_object=tenant)
    assert p.VIEW_BCP_ENABLEMENT in set(rows.values_list("permission__codename", flat=True))


def test_edit_implies_view(tenant):
    role = role_create(tenant=tenant, name="BCP operators", actor=Actor.system())

    granted = role_set_permissions(role=role, permissions={p.CHANGE_BCP_CONFIGURATIONS, p.CHANGE_BCP_ENABLEMENT},
                                   actor=Actor.system())

    assert BCP_ALL <= granted
    assert p.ACCESS_ADMIN in granted  # any View needs the Admin application
    assert role_permissions(role=role) == granted


def test_a_scoped_change_leaves_other_sections_alone(admin_role):
    before = role_permissions(role=admin_role)
    granted = role_set_permissions(role=admin_role, permissions={p.VIEW_BCP_CONFIGURATIONS},
                                   scope={p.VIEW_BCP_CONFIGURATIONS, p.CHANGE_BCP_CONFIGURATIONS}, actor=Actor.system())
    assert granted == before | {p.VIEW_BCP_CONFIGURATIONS}


def test_it_audits_permission_changes(admin_role):
    role_set_permissions(role=admin_role, permissions=role_permissions(role=admin_role) | {p.CHANGE_BCP_ENABLEMENT},
                         actor=Actor.system())
    event = audit_events().get(action="role.permissions_change")
    assert event.changes["added"] == [p.CHANGE_BCP_ENABLEMENT, p.VIEW_BCP_ENABLEMENT]
    assert event.object_id == str(admin_role.pk)


def test_role_names_are_unique_per_tenant_whatever_the_case(tenant, other_tenant):
    with pytest.raises(RoleError, match="already has a role named"):
        role_create(tenant=tenant, name="  administrator ", actor=Actor.system())
    role_create(tenant=other_tenant, name="Dispatchers", actor=Actor.system())
    role_create(tenant=tenant, name="Dispatchers", actor=Actor.system())
    with pytest.raises(RoleError, match="needs a name"):
        role_create(tenant=tenant, name="   ", actor=Actor.system())


def test_renaming_frees_the_old_name(tenant):
    role = role_create(tenant=tenant, name="Night shift", actor=Actor.system())
    role_update(role=role, name="Late shift", description="After 22:00", actor=Actor.system())
    again = role_create(tenant=tenant, name="Night shift", actor=Actor.system())
    assert again.pk != role.pk
    with pytest.raises(RoleError):
        role_update(role=again, name="LATE SHIFT", actor=Actor.system())


def test_the_only_role_that_manages_roles_cannot_lose_it(tenant, admin_role):
    with pytest.raises(RoleError, match="only role that can manage roles"):
        role_set_permissions(role=admin_role, permissions={p.ACCESS_ADMIN}, actor=Actor.system())
    assert p.MANAGE_ROLES in role_permissions(role=admin_role)


def test_the_last_role_with_an_active_manager_cannot_lose_it(tenant, admin_role, tenant_admin):
    spare = role_create(tenant=tenant, name="Spare managers", permissions=[p.MANAGE_ROLES],
                        actor=Actor.system())  # nobody holds it
    with pytest.raises(RoleError, match="No active user would be left"):
        role_set_permissions(role=admin_role, permissions={p.ACCESS_ADMIN}, actor=Actor.system())

    UserFactory(username="inactive", tenant=tenant, role=spare, is_active=False)
    with pytest.raises(RoleError):
        role_set_permissions(role=admin_role, permissions={p.ACCESS_ADMIN}, actor=Actor.system())

    UserFactory(username="bea", tenant=tenant, role=spare)
    assert p.MANAGE_ROLES not in role_set_permissions(role=admin_role, permissions={p.ACCESS_ADMIN},
                                                      actor=Actor.system())


def test_without_any_active_manager_another_role_with_the_permission_is_enough(tenant, admin_role):
    # A fresh tenant nobody has signed in to yet: the representative reorganises its roles.
    role_create(tenant=tenant, name="Owners", permissions=[p.MANAGE_ROLES], actor=Actor.system())
    assert p.MANAGE_ROLES not in role_set_permissions(role=admin_role, permissions={p.ACCESS_ADMIN},
                                                      actor=Actor.system())


def test_a_role_with_users_cannot_be_deleted(admin_role, tenant_admin):
    with pytest.raises(RoleError, match="1 user has the role"):
        role_delete(role=admin_role, actor=Actor.system())
    assert Role.objects.filter(pk=admin_role.pk).exists()


def test_the_only_role_that_manages_roles_cannot_be_deleted(admin_role):
    with pytest.raises(RoleError, match="only role"):
        role_delete(role=admin_role, actor=Actor.system())


def test_deleting_a_role_removes_its_group_and_permissions(tenant):
    role = role_create(tenant=tenant, name="Temporary", permissions=[p.VIEW_CONFIGURATION], actor=Actor.system())
    group_id, role_id = role.group_id, role.pk

    role_delete(role=role, actor=Actor.system())

    assert not Role.objects.filter(pk=role_id).exists()
    assert not Group.objects.filter(pk=group_id).exists()
    assert not TenantGroupObjectPermission.objects.filter(group_id=group_id).exists()
    assert audit_events().filter(action="role.delete", object_id=str(role_id)).exists()


# --- permission matrix ----------------------------------------------------------------------------------------


ROLE_IN_PATH = {"accounts:role_detail": [], "accounts:role_permissions": ["bcp"], "accounts:role_details": [],
                "accounts:role_delete": []}  # URL name -> the arguments after the role's id


def _args(name, role):
    return [role.pk, *ROLE_IN_PATH[name]] if name in ROLE_IN_PATH else []


# url name, method; then the answer per persona in the order of PERSONAS: anonymous, agent and supervisor (no Manage
# roles), tenant_admin, other_admin (their own tenant's list and create pages; this tenant's role is not theirs to
# know), rep (not impersonating). The POSTs would rename the role and give it BCP Enablement; the tenant
# administrator's own changes are tested below. other_admin's list is read-only, a create lands in their tenant.
SEES = answers(302, 404, 404, 200, 200, 404)
HIDDEN = answers(302, 404, 404, 200, 404, 404)
REFUSED = answers(302, 404, 404, None, 404, 404)
URLS = [
    Row("accounts:role_list", GET, SEES),
    Row("accounts:role_create", GET, SEES),
    Row("accounts:role_detail", GET, HIDDEN),
    Row("accounts:role_permissions", GET, HIDDEN),
    Row("accounts:role_details", GET, HIDDEN),
    Row("accounts:role_delete", GET, HIDDEN),
    Row("accounts:role_list", POST, answers(302, 404, 404, None, 405, 404)),
    Row("accounts:role_create", POST, answers(302, 404, 404, None, 302, 404)),
    Row("accounts:role_detail", POST, REFUSED),
    Row("accounts:role_permissions", POST, REFUSED),
    Row("accounts:role_details", POST, REFUSED),
    Row("accounts:role_delete", POST, REFUSED),
]


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_roles_url_for_every_persona(as_persona, row, persona, tenant, admin_role):
    if row.method == GET:
        ask(as_persona(persona), row, persona, args=_args(row.name, admin_role))
        return
    role = role_create(tenant=tenant, name="Target", permissions=[p.VIEW_CONFIGURATION], actor=Actor.system())
    ask(as_persona(persona), row, persona, args=_args(row.name, role),
        data={"name": "Changed", "change_bcp_enablement": "on"})
    role.refresh_from_db()
    assert role.name == "Target"
    assert role_permissions(role=role) == {p.VIEW_CONFIGURATION, p.ACCESS_ADMIN}


@pytest.mark.parametrize("name", [row.name for row in URLS if row.method == GET])
def test_an_impersonating_representative_gets_every_page(impersonating, name, admin_role):
    assert impersonating.get(reverse(name, args=_args(name, admin_role))).status_code == 200


def test_another_tenants_role_is_404_for_a_tenant_administrator(client, tenant_admin, other_tenant):
    foreign = role_of(other_tenant, r.ADMINISTRATOR)
    client.force_login(tenant_admin)
    for name in ROLE_IN_PATH:
        url = reverse(name, args=_args(name, foreign))
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Hijacked", "change_bcp_enablement": "on"}).status_code == 404
    assert not (BCP_ALL & role_permissions(role=foreign))
    assert Role.objects.get(pk=foreign.pk).name == r.ADMINISTRATOR


def test_an_unknown_section_is_404(client, tenant_admin, admin_role):
    client.force_login(tenant_admin)
    assert client.get(reverse("accounts:role_permissions", args=[admin_role.pk, "nope"])).status_code == 404


def test_the_menu_entry_shows_only_with_manage_roles(client, tenant_admin, supervisor):
    client.force_login(tenant_admin)
    assert "Roles and Permissions" in client.get(reverse("accounts:admin_home")).content.decode()
    client.force_login(supervisor)
    assert "Roles and Permissions" not in client.get(reverse("accounts:admin_home")).content.decode()


# --- pages -------------------------------------------------------------------------------------------------------


def test_the_list_shows_name_description_and_user_count(client, tenant_admin, supervisor, agent):
    client.force_login(tenant_admin)
    html = client.get(reverse("accounts:role_list")).content.decode()
    for name in (r.ADMINISTRATOR, r.SUPERVISOR, r.AGENT):
        assert name in html
    assert "Manages the tenant" in html
    assert "3 roles" in html


def test_the_list_searches_and_paginates(client, tenant_admin, tenant):
    for i in range(settings.PAGE_SIZE + 5):
        role_create(tenant=tenant, name=f"Queue {i:02d}", actor=Actor.system())
    client.force_login(tenant_admin)

    first = client.get(reverse("accounts:role_list"), {"q": "queue"})
    assert f"{settings.PAGE_SIZE + 5} roles" in first.content.decode()
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(reverse("accounts:role_list"), {"q": "queue", "page": 2})
    assert "Queue 29" in second.content.decode()
    partial = client.get(reverse("accounts:role_list"), {"q": "agent"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "1 role" in partial.content.decode()


def test_the_list_query_count_does_not_grow_with_the_roles(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    url = reverse("accounts:role_list")

    client.get(url)  # warm up the session and content types
    with CaptureQueriesEverywhere() as few:
        assert client.get(url).status_code == 200
    for i in range(47):
        role_create(tenant=tenant, name=f"Role {i:02d}", actor=Actor.system())
    UserFactory(username="extra", tenant=tenant, role=Role.objects.get(tenant=tenant, name="Role 00"))
    with CaptureQueriesEverywhere() as many:
        assert client.get(url).status_code == 200
    assert Role.objects.filter(tenant=tenant).count() == 50
    assert len(many) == len(few)


def test_create_a_role_and_land_on_its_permissions(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    response = client.post(reverse("accounts:role_create"), {"name": "Team leads", "description": "Floor leads"})
    role = Role.objects.get(tenant=tenant, name="Team leads")
    assert response.status_code == 302 and response.url == reverse("accounts:role_detail", args=[role.pk])
    assert role_permissions(role=role) == set()


def test_a_duplicate_name_is_a_clear_error(client, tenant_admin):
    client.force_login(tenant_admin)
    response = client.post(reverse("accounts:role_create"), {"name": "SUPERVISOR"})
    assert response.status_code == 400
    assert "already has a role named" in response.content.decode()


def test_save_the_bcp_section_with_edit_implying_view(client, tenant_admin, admin_role):
    client.force_login(tenant_admin)
    url = reverse("accounts:role_permissions", args=[admin_role.pk, "bcp"])
    page = client.get(url).content.decode()
    for label in ("BCP Configurations", "BCP Tenant Enablement", "View", "Edit"):
        assert label in page
    assert 'data-implies="id_view_bcp_configurations"' in page

    response = client.post(url, {"change_bcp_configurations": "on", "change_bcp_enablement": "on"}, follow=True)

    assert BCP_ALL <= role_permissions(role=admin_role)
    assert p.MANAGE_ROLES in role_permissions(role=admin_role)  # the General section is untouched
    html = response.content.decode()
    assert "are saved" in html and "Also turned on" in html


def test_unticking_view_while_edit_stays_keeps_view(client, tenant_admin, admin_role):
    role_set_permissions(role=admin_role, permissions=role_permissions(role=admin_role) | BCP_ALL, actor=Actor.system())
    client.force_login(tenant_admin)
    client.post(reverse("accounts:role_permissions", args=[admin_role.pk, "bcp"]),
                {"change_bcp_configurations": "on"})
    assert role_permissions(role=admin_role) & BCP_ALL == {p.VIEW_BCP_CONFIGURATIONS, p.CHANGE_BCP_CONFIGURATIONS}


def test_the_page_refuses_to_remove_the_last_way_to_manage_roles(client, tenant_admin, admin_role):
    client.force_login(tenant_admin)
    response = client.post(reverse("accounts:role_permissions", args=[admin_role.pk, "general"]),
                           {"access_admin": "on"})
    assert response.status_code == 400
    assert "only role that can manage roles" in response.content.decode()
    assert p.MANAGE_ROLES in role_permissions(role=admin_role)


def test_an_impersonating_representative_cannot_leave_zero_managers_either(impersonating, admin_role):
    response = impersonating.post(reverse("accounts:role_permissions", args=[admin_role.pk, "general"]), {})
    assert response.status_code == 400
    assert p.MANAGE_ROLES in role_permissions(role=admin_role)


def test_giving_away_ones_own_manage_roles_goes_home(client, tenant_admin, tenant, admin_role):
    spare = role_create(tenant=tenant, name="Owners", permissions=[p.MANAGE_ROLES], actor=Actor.system())
    UserFactory(username="olga", tenant=tenant, role=spare)
    client.force_login(tenant_admin)
    response = client.post(reverse("accounts:role_permissions", args=[admin_role.pk, "general"]),
                           {"access_admin": "on"})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("accounts:role_list")).status_code == 404


def test_rename_on_the_details_tab(client, tenant_admin, tenant):
    role = role_create(tenant=tenant, name="Old", actor=Actor.system())
    client.force_login(tenant_admin)
    response = client.post(reverse("accounts:role_details", args=[role.pk]), {"name": "New", "description": "d"})
    assert response.status_code == 302
    role.refresh_from_db()
    assert (role.name, role.description) == ("New", "d")
    assert client.post(reverse("accounts:role_details", args=[role.pk]), {"name": "agent"}).status_code == 400


def test_delete_asks_first_and_refuses_while_users_have_the_role(client, tenant_admin, tenant, supervisor):
    client.force_login(tenant_admin)
    busy = role_of(tenant, r.SUPERVISOR)
    page = client.get(reverse("accounts:role_delete", args=[busy.pk])).content.decode()
    assert "Give them another role" in page and 'type="submit" class="danger"' not in page
    assert client.post(reverse("accounts:role_delete", args=[busy.pk])).status_code == 400
    assert Role.objects.filter(pk=busy.pk).exists()

    idle = role_create(tenant=tenant, name="Idle", actor=Actor.system())
    assert 'class="danger"' in client.get(reverse("accounts:role_delete", args=[idle.pk])).content.decode()
    response = client.post(reverse("accounts:role_delete", args=[idle.pk]))
    assert response.status_code == 302 and response.url == reverse("accounts:role_list")
    assert not Role.objects.filter(pk=idle.pk).exists()


@pytest.mark.parametrize("name", ["accounts:role_create", "accounts:role_permissions", "accounts:role_details",
                                  "accounts:role_delete"])
def test_posts_need_the_csrf_token(tenant_admin, tenant, name):
    role = role_create(tenant=tenant, name="Guarded", actor=Actor.system())
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_admin)
    response = client.post(reverse(name, args=_args(name, role)), {"name": "Changed", "change_bcp_enablement": "on"})
    assert response.status_code == 403
    assert Role.objects.filter(pk=role.pk, name="Guarded").exists()
    assert role_permissions(role=role) == set()
