from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("end/", views.impersonation_end_view, name="end"),
    path("<str:tenant_id>/", views.impersonation_start_view, name="start"),
]
