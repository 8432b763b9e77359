from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = _("Sync")

    def ready(self):
        from accounts.menu import MenuEntry, register
        from bcp_project.permissions import VIEW_BCP_CONFIGURATIONS

        from . import signals
        from .checks import entity_types_are_registered

        signals.connect()
        checks.register(entity_types_are_registered)
        register(MenuEntry(label=_("Sync Configuration"), url_name="sync:configuration",
                           permission=VIEW_BCP_CONFIGURATIONS, order=90, section="sync:"))
