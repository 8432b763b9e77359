from django.urls import path

from . import views

app_name = "status"

urlpatterns = [
    # Tenant Management (account representatives)
    path("tm/status/", views.status_list_view, name="list"),
    path("tm/status/regions/<slug:region_code>/", views.region_status_view, name="region"),
    path("tm/status/tenants/<str:tenant_id>/", views.tenant_status_view, name="tenant"),
    # My Profile (the users of a tenant)
    path("profile/status-alerts/", views.status_alerts_view, name="alerts"),
]
