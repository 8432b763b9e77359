from django.urls import path

from . import views

app_name = "sync"

urlpatterns = [
    path("", views.configuration, name="configuration"),
    path("enable/", views.enable, name="enable"),
    path("settings/", views.save_settings, name="settings"),
    path("disable/", views.disable, name="disable"),
    path("run/", views.run_now, name="run"),
    path("progress/", views.progress, name="progress"),
    path("history/", views.history, name="history"),
    path("history/<int:pk>/", views.run_detail, name="run_detail"),
    path("changes/", views.changes, name="changes"),
    path("correlations/", views.correlations, name="correlations"),
]
