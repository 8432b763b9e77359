"""Every contact-center URL for every persona: anonymous → sign-in, agent and outsiders → 404,
supervisor → read-only (lists and an object's page 200, the create and delete pages and every POST 403),
tenant administrator → can change."""

import pytest

from contactcenter.models import Deletion
from tests.permissions import GET, POST, Row, answers, ask, cases

from .conftest import KEYS, SLUGS, valid_data

# action, then the answer per persona in the order of PERSONAS: anonymous, agent, supervisor (read-only: no empty
# form or deletion to confirm), tenant_admin, other_admin (their own tenant's list and create pages exist, this
# tenant's objects do not), rep.
GETS = {
    "list": answers(302, 404, 200, 200, 200, 404),
    "create": answers(302, 404, 403, 200, 200, 404),
    "edit": answers(302, 404, 200, 200, 404, 404),
    "delete": answers(302, 404, 403, 200, 404, 404),
}
# Valid form data from those who may not change: nothing is saved. The tenant administrator's own changes and
# other_admin's create (into their own tenant) are tested below.
POSTS = {
    "create": answers(302, 404, 403, None, None, 404),
    "edit": answers(302, 404, 403, None, 404, 404),
    "delete": answers(302, 404, 403, None, 404, 404),
}
# Every type's URLs; given: the type's slug.
URLS = [Row(f"contactcenter:{KEYS[slug]}_{action}", method, expected, given=slug)
        for slug in SLUGS
        for method, table in ((GET, GETS), (POST, POSTS))
        for action, expected in table.items()]


def _args(row, config):
    return [config[row.given].pk] if row.name.endswith(("_edit", "_delete")) else []


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_contactcenter_url_for_every_persona(as_persona, tenant, config, row, persona):
    client = as_persona(persona)  # signing in makes the persona's user: count after
    model = type(config[row.given])
    before = model.objects.count()
    data = valid_data(row.given, tenant, config) if row.method == POST else {}
    ask(client, row, persona, args=_args(row, config), data=data)
    if row.method == POST:
        assert model.objects.count() == before
        assert not Deletion.objects.exists()


@pytest.mark.parametrize("slug", ["users", "points-of-contact", "dispositions"])
def test_another_tenants_ids_are_not_offered_to_an_outsider(as_persona, tenant, config, slug):
    response = as_persona("other_admin").post(f"/admin/{slug}/new/", valid_data(slug, tenant, config))
    assert response.status_code == 400
    assert any("valid choice" in str(errors) for errors in response.context["form"].errors.values()) or any(
        "valid choice" in str(row.errors) for row in response.context["form"].rows.forms)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_tenant_administrator_creates_edits_and_deletes(as_persona, tenant, config, slug):
    client = as_persona("tenant_admin")
    response = client.post(f"/admin/{slug}/new/", valid_data(slug, tenant, config, name="Created"))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    spec_model = type(config[slug])
    created = spec_model.objects.order_by("-pk").first()
    assert created.pk != config[slug].pk

    response = client.post(f"/admin/{slug}/{created.pk}/", valid_data(slug, tenant, config, name="Renamed"))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    created.refresh_from_db()
    assert "renamed" in str(getattr(created, "name", getattr(created, "username", ""))).lower()

    response = client.post(f"/admin/{slug}/{created.pk}/delete/")
    assert response.status_code == 302
    assert not spec_model.objects.filter(pk=created.pk).exists()
    assert Deletion.objects.filter(object_id=created.pk).count() == 1


@pytest.mark.parametrize("persona,shown", [("supervisor", False), ("tenant_admin", True)])
def test_change_buttons_are_shown_only_to_those_who_may_change(as_persona, config, persona, shown):
    content = as_persona(persona).get("/admin/skills/").content.decode()
    assert ("/admin/skills/new/" in content) is shown
    assert (f"/admin/skills/{config['skills'].pk}/delete/" in content) is shown
    edit_page = as_persona(persona).get(f"/admin/skills/{config['skills'].pk}/").content.decode()
    assert ('type="submit" class="primary"' in edit_page) is shown


@pytest.mark.parametrize("persona,count", [("agent", 0), ("supervisor", 8), ("tenant_admin", 8)])
def test_the_admin_menu_lists_the_types_to_those_who_may_view(as_persona, config, persona, count):
    response = as_persona(persona).get("/admin/" if persona != "agent" else "/profile/")
    content = response.content.decode()
    assert sum(f'href="/admin/{slug}/"' in content for slug in SLUGS) == count
