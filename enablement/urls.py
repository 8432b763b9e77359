from django.urls import path

from . import views
from .missing_accounts import urls as missing_accounts

app_name = "enablement"

urlpatterns = [
    path("admin/bc-enablement/", views.page, name="page"),
    path("admin/bc-enablement/switch/", views.switch, name="switch"),
    path("admin/bc-enablement/message/", views.message_set, name="message_set"),
    path("admin/bc-enablement/message/remove/", views.message_remove, name="message_remove"),
    path("tm/tenants/<uuid:tenant_id>/bc-enablement/", views.tm_page, name="tm_page"),
    path("tm/tenants/<uuid:tenant_id>/bc-enablement/message/", views.tm_message_set, name="tm_message_set"),
    path("tm/tenants/<uuid:tenant_id>/bc-enablement/message/remove/", views.tm_message_remove,
         name="tm_message_remove"),
    *missing_accounts.urlpatterns,
]
