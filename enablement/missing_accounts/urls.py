from django.urls import path

from . import views

urlpatterns = [
    path("admin/bc-enablement/people-without-account/", views.page, name="accounts"),
    path("admin/bc-enablement/people-without-account/give/", views.give, name="accounts_give"),
]
