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


def _grant(tenant, name, permissions):
    from accounts.roles import with_implied
    from accounts.services import role_permissions, role_set_permissions
    from audit.services import Actor
    from tests.factories import role_of

    role = role_of(tenant, name)
    role_set_permissions(role=role, permissions=role_permissions(role=role) | with_implied(permissions),
                         actor=Actor.system())


def test_a_new_pairs_administrator_is_told_which_bcp_permissions_are_missing_and_how_to_grant_them(
        as_persona, tenant_admin, tenant, region_eu):
    make_mapping(tenant, TenantFactory(name="Classics Inc. BCP", region=region_eu))
    page = as_persona("tenant_admin").get(reverse("accounts:admin_home")).text
    note = page.split('data-testid="admin-bcp-missing"')[1].split("</div>")[0]
    assert "Your role “Administrator” lacks these BCP permissions:" in note
    for label in ["BCP Configurations: View", "BCP Configurations: Edit", "BCP Tenant Enablement: View",
                  "BCP Tenant Enablement: Edit"]:
        assert f"<li>{label}</li>" in note
    assert "So these pages are not in your menu: Sync Configuration, BC Enablement." in note
    # An administrator can manage roles, so the note links to the place where they tick them.
    role = tenant_admin.role
    assert reverse("accounts:role_permissions", args=[role.pk, "bcp"]) in note


def test_the_note_names_who_can_grant_the_permissions_when_the_reader_cannot(
        as_persona, tenant_admin, supervisor, tenant, region_eu):
    from accounts.roles import SUPERVISOR

    tenant_admin.first_name, tenant_admin.last_name = "Alice", "Admin"
    tenant_admin.save()
    make_mapping(tenant, TenantFactory(name="Classics Inc. BCP", region=region_eu))
    _grant(tenant, SUPERVISOR, ["view_bcp_configurations"])
    note = as_persona("supervisor").get(reverse("accounts:admin_home")).text.split(
        'data-testid="admin-bcp-missing"')[1].split("</div>")[0]
    assert "<li>BCP Configurations: View</li>" not in note
    assert "<li>BCP Configurations: Edit</li>" in note
    assert "So these pages are not in your menu: BC Enablement." in note
    assert "These pages show, but you cannot change them: Sync Configuration." in note
    assert "Ask someone who can manage roles on this tenant (Alice Admin) to grant them" in note
    assert "Impersonate & Support" in note


def test_the_note_is_in_german_for_a_german_reader(as_persona, supervisor, tenant, region_eu):
    supervisor.language = "de"
    supervisor.save(update_fields=["language"])
    tenant.users.exclude(pk=supervisor.pk).delete()
    make_mapping(tenant, TenantFactory(name="Classics Inc. BCP", region=region_eu))
    note = as_persona("supervisor").get(reverse("accounts:admin_home")).text.split(
        'data-testid="admin-bcp-missing"')[1].split("</div>")[0]
    assert "BCP-Berechtigungen" in note and "BCP-Konfigurationen: Anzeigen" in note
    assert "Kundenbetreuer" in note


def test_no_note_without_a_pair_or_with_every_bcp_permission(as_persona, tenant_admin, tenant, region_eu):
    client = as_persona("tenant_admin")
    assert "admin-bcp-missing" not in client.get(reverse("accounts:admin_home")).text
    make_mapping(tenant, TenantFactory(name="Classics Inc. BCP", region=region_eu))
    _grant(tenant, "Administrator", ["change_bcp_configurations", "change_bcp_enablement"])
    assert "admin-bcp-missing" not in client.get(reverse("accounts:admin_home")).text


def test_the_note_costs_the_same_queries_however_many_people_can_grant(as_persona, supervisor, tenant, region_eu,
                                                                      django_assert_num_queries):
    from accounts.roles import ADMINISTRATOR
    from tests.factories import UserFactory, role_of

    make_mapping(tenant, TenantFactory(name="Classics Inc. BCP", region=region_eu))
    client = as_persona("supervisor")
    client.get(reverse("accounts:admin_home"))
    from tests.queries import CaptureQueriesEverywhere

    with CaptureQueriesEverywhere() as first:
        client.get(reverse("accounts:admin_home"))
    for index in range(4):
        UserFactory(username=f"boss{index}", first_name=f"Boss{index}", last_name="Z", tenant=tenant,
                    role=role_of(tenant, ADMINISTRATOR))
    with django_assert_num_queries(len(first)):
        page = client.get(reverse("accounts:admin_home")).text
    assert "(Boss0 Z, Boss1 Z, Boss2 Z)" in page and "Boss3" not in page
