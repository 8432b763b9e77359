"""Admin → Import users. Included by contactcenter/urls.py (so the names are contactcenter:users_import...).

The names deliberately do not start with "user_": the Users menu entry marks every "contactcenter:user_"
page current, and the import has its own entry.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("users/import/", views.users_import_view, name="users_import"),
    path("users/import/confirm/", views.users_import_confirm, name="users_import_confirm"),
    path("users/import/template.csv", views.users_import_template, name="users_import_template"),
]
