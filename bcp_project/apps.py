from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BcpProjectConfig(AppConfig):
    name = "bcp_project"
    verbose_name = _("Platform")
