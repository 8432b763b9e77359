"""Every contact-center URL for every persona: anonymous → sign-in, agent and outsiders → 404,
supervisor → read-only (lists and an object's page 200, the create and delete pages and every POST 403),
tenant administrator → can change."""

import pytest

from contactcenter.models import Deletion
from tests.conftest import PERSONAS

from .conftest import SLUGS, valid_data

ACTIONS = ["list", "create", "edit", "delete"]


def url_for(slug: str, action: str, obj) -> str:
    return {"list": f"/admin/{slug}/", "create": f"/admin/{slug}/new/", "edit": f"/admin/{slug}/{obj.pk}/",
            "delete": f"/admin/{slug}/{obj.pk}/delete/"}[action]


EXPECTED_GET = {"anonymous": 302, "agent": 404, "supervisor": 200, "tenant_admin": 200, "rep": 404}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("slug", SLUGS)
def test_it_answers_a_get_by_persona(as_persona, config, slug, action, persona):
    url = url_for(slug, action, config[slug])
    response = as_persona(persona).get(url)
    if persona == "other_admin":
        # Their own tenant's list and create pages exist; this tenant's objects do not.
        assert response.status_code == (200 if action in ("list", "create") else 404)
    elif persona == "supervisor" and action in ("create", "delete"):
        assert response.status_code == 403  # read-only: no empty form or deletion to confirm
    else:
        assert response.status_code == EXPECTED_GET[persona]
    if persona == "anonymous":
        assert response["Location"].startswith("/sign-in/")


def _cases():
    for slug in SLUGS:
        for action in ["create", "edit", "delete"]:
            for persona in ["anonymous", "agent", "supervisor", "other_admin", "rep"]:
                if persona == "other_admin" and action == "create":
                    continue  # their own tenant's create page: see the test below
                yield slug, action, persona


@pytest.mark.parametrize("slug,action,persona", list(_cases()))
def test_it_refuses_a_post_from_those_who_may_not_change(as_persona, tenant, config, slug, action, persona):
    model = type(config[slug])
    client = as_persona(persona)
    before = model.objects.count()
    url = url_for(slug, action, config[slug])
    response = client.post(url, valid_data(slug, tenant, config))
    expected = {"anonymous": 302, "agent": 404, "supervisor": 403, "rep": 404, "other_admin": 404}[persona]
    assert response.status_code == expected
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
