"""BCP on a tenant's Applications & Features tab: the set-up wizard, Save, a new passkey, turning it off.
Included by tenants/urls.py under the tenant's path, so the names stay in the `tenants` namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("enable/", views.bcp_enable_view, name="bcp_enable"),
    path("wizard/settings/", views.bcp_wizard_settings_view, name="bcp_settings"),
    path("wizard/mapping/", views.bcp_wizard_mapping_view, name="bcp_mapping"),
    path("wizard/dr-tenants/", views.bcp_wizard_dr_tenants_view, name="bcp_dr_tenants"),
    path("wizard/cancel/", views.bcp_wizard_cancel_view, name="bcp_cancel"),
    path("save/", views.bcp_save_view, name="bcp_save"),
    path("passkey/", views.bcp_passkey_view, name="bcp_passkey"),
    path("disable/", views.bcp_disable_view, name="bcp_disable"),
]
