from django.urls import path

from . import support_views

app_name = "support"

urlpatterns = [
    path("end/", support_views.impersonation_end_view, name="end"),
    path("<str:tenant_id>/", support_views.impersonation_start_view, name="start"),
]
