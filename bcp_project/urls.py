from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("tm/tenants/", include("tenants.urls")),
    path("tm/support/", include("tenants.support.urls")),
    path("tm/audit/", include("audit.urls")),
    path("", include("status.urls")),
    path("admin/sync/", include("sync.urls")),
    path("plan/", include("continuity.urls")),
    path("", include("enablement.urls")),
    path("admin/", include("contactcenter.urls")),
]

handler400 = "bcp_project.errors.bad_request"
handler403 = "bcp_project.errors.permission_denied"
handler404 = "bcp_project.errors.page_not_found"
handler500 = "bcp_project.errors.server_error"
