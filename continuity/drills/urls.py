"""Drills, rehearsals and follow-up actions."""

from django.urls import path

from . import views

urlpatterns = [
    path("drills/", views.drills, name="drills"),
    path("drills/new/", views.drill_create, name="drill_create"),
    path("drills/rehearse/", views.rehearse, name="rehearse"),
    path("drills/<int:pk>/", views.drill, name="drill"),
    path("drills/<int:pk>/edit/", views.drill_edit, name="drill_edit"),
    path("drills/<int:pk>/actions/new/", views.action_create, name="action_create"),
    path("drills/actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
    path("drills/actions/<int:pk>/done/", views.action_done, name="action_done"),
    path("drills/actions/<int:pk>/delete/", views.action_delete, name="action_delete"),
]
