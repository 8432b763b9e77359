from django.urls import reverse

IMPORT_BUTTON = b'class="button" href="/admin/users/import/"'


def test_administrator_finds_import_users_beside_add_user(as_persona, tenant_admin):
    response = as_persona("tenant_admin").get(reverse("contactcenter:user_list"))
    assert response.status_code == 200
    assert IMPORT_BUTTON in response.content


def test_supervisor_sees_no_import_button(as_persona, supervisor):
    response = as_persona("supervisor").get(reverse("contactcenter:user_list"))
    assert response.status_code == 200
    assert IMPORT_BUTTON not in response.content


def test_import_menu_entry_is_there_without_loading_the_urlconf_first(rf, tenant_admin):
    from accounts.menu import _ENTRIES

    assert any(entry.url_name == "contactcenter:users_import" for entry in _ENTRIES)


def test_an_administrator_is_told_up_front_that_they_cannot_delete_their_own_account(as_persona, tenant_admin):
    response = as_persona("tenant_admin").get(reverse("contactcenter:user_delete", args=[tenant_admin.pk]))
    assert response.status_code == 200
    assert "This is your own account" in response.text
    assert 'class="danger"' not in response.text


def test_another_users_delete_page_still_offers_delete(as_persona, tenant_admin, agent):
    response = as_persona("tenant_admin").get(reverse("contactcenter:user_delete", args=[agent.pk]))
    assert 'class="danger"' in response.text
    assert "This is your own account" not in response.text
