from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Tenant Management")

    def ready(self):
        from . import checks  # noqa: F401 - registers the database check
