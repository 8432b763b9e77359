from django.urls import path

from . import bcp_views, views

app_name = "tenants"

urlpatterns = [
    path("", views.tenant_list_view, name="list"),
    path("new/", views.tenant_create_view, name="create"),
    path("<str:tenant_id>/", views.tenant_detail_view, name="detail"),
    path("<str:tenant_id>/applications/", views.tenant_detail_view, {"tab": "applications"},
         name="applications"),
    # BCP on the Applications & Features tab: the set-up wizard, Save, a new passkey, turning it off.
    path("<str:tenant_id>/bcp/enable/", bcp_views.bcp_enable_view, name="bcp_enable"),
    path("<str:tenant_id>/bcp/wizard/settings/", bcp_views.bcp_wizard_settings_view, name="bcp_settings"),
    path("<str:tenant_id>/bcp/wizard/mapping/", bcp_views.bcp_wizard_mapping_view, name="bcp_mapping"),
    path("<str:tenant_id>/bcp/wizard/dr-tenants/", bcp_views.bcp_wizard_dr_tenants_view, name="bcp_dr_tenants"),
    path("<str:tenant_id>/bcp/wizard/cancel/", bcp_views.bcp_wizard_cancel_view, name="bcp_cancel"),
    path("<str:tenant_id>/bcp/save/", bcp_views.bcp_save_view, name="bcp_save"),
    path("<str:tenant_id>/bcp/passkey/", bcp_views.bcp_passkey_view, name="bcp_passkey"),
    path("<str:tenant_id>/bcp/disable/", bcp_views.bcp_disable_view, name="bcp_disable"),
]
