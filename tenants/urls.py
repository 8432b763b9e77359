from django.urls import include, path

from . import views

app_name = "tenants"

urlpatterns = [
    path("", views.tenant_list_view, name="list"),
    path("new/", views.tenant_create_view, name="create"),
    path("<str:tenant_id>/", views.tenant_detail_view, name="detail"),
    path("<str:tenant_id>/applications/", views.tenant_detail_view, {"tab": "applications"},
         name="applications"),
    path("<str:tenant_id>/bcp/", include("tenants.bcp.urls")),
]
