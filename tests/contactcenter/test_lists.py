"""List pages: search, filters, empty states and htmx pagination (25 a page)."""

import pytest

from audit.services import Actor
from contactcenter import services
from contactcenter.models import Tag


@pytest.fixture
def admin_client(as_persona):
    return as_persona("tenant_admin")


def names(response):
    return [name for _obj, name, _cells in response.context["rows"]]


def test_it_searches_and_filters_skills(admin_client, tenant, config):
    services.skill_create(tenant=tenant, name="Email support", channel="email", actor=Actor.system())
    services.skill_create(tenant=tenant, name="Outbound sales", channel="phone", direction="outbound",
                          actor=Actor.system())
    assert names(admin_client.get("/admin/skills/?channel=email")) == ["Email support"]
    assert names(admin_client.get("/admin/skills/?direction=outbound")) == ["Outbound sales"]
    assert names(admin_client.get("/admin/skills/?q=BILL")) == ["Billing"]


def test_a_skills_search_matches_what_the_list_shows_and_not_a_hidden_description(admin_client, tenant, config):
    services.skill_create(tenant=tenant, name="Email Support", channel="email",
                          description="The support and billing mailboxes.", actor=Actor.system())
    response = admin_client.get("/admin/skills/?q=Billing")
    assert names(response) == ["Billing"]
    assert "Email Support" not in response.text


def test_it_filters_users_by_role_and_searches_names(admin_client, tenant, config, supervisor):
    assert names(admin_client.get(f"/admin/users/?role={supervisor.role_id}")) == ["sam"]
    assert names(admin_client.get("/admin/users/?q=zoe")) == ["zoe"]


def test_it_filters_unavailable_codes_by_after_contact_work(admin_client, tenant, config):
    services.unavailable_code_create(tenant=tenant, name="Wrap-up", after_contact_work=True, actor=Actor.system())
    assert names(admin_client.get("/admin/unavailable-codes/?after_contact_work=yes")) == ["Wrap-up"]
    assert names(admin_client.get("/admin/unavailable-codes/?after_contact_work=no")) == ["Lunch"]


def test_it_never_lists_another_tenants_rows(as_persona, other_tenant, config):
    services.tag_create(tenant=other_tenant, name="Northwind only", actor=Actor.system())
    assert names(as_persona("other_admin").get("/admin/tags/")) == ["Northwind only"]


def test_an_empty_list_explains_the_type_and_offers_the_first_entry(admin_client):
    content = admin_client.get("/admin/tags/").content.decode()
    assert "No entries in Tags yet." in content
    assert "Add the first tag" in content


def test_a_search_without_results_offers_to_clear_it(admin_client, config):
    content = admin_client.get("/admin/tags/?q=nothing-like-this").content.decode()
    assert "Nothing matches your search." in content and "Clear the search" in content


def test_it_pages_by_25_and_answers_htmx_with_the_table_only(admin_client, tenant):
    Tag.objects.bulk_create(Tag(tenant=tenant, name=f"Tag {i:02d}") for i in range(60))
    first = admin_client.get("/admin/tags/")
    assert len(first.context["rows"]) == 25
    assert 'hx-get="?page=2"' in first.content.decode()
    third = admin_client.get("/admin/tags/?page=3", headers={"HX-Request": "true"})
    assert names(third) == [f"Tag {i:02d}" for i in range(50, 60)]
    assert "<html" not in third.content.decode()
    assert [t.name for t in third.templates][0] == "contactcenter/partials/_object_table.html"
