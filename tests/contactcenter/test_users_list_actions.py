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
