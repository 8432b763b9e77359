from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = _("Sync")

    def ready(self):
        from django.db.models.signals import post_migrate

        from accounts.menu import MenuEntry, register
        from bcp_project.permissions import VIEW_BCP_CONFIGURATIONS

        from . import signals
        from .checks import entity_types_are_registered
        from .engine import capture

        signals.connect()
        # The change log's triggers, from the registry, in every database after its migrate.
        post_migrate.connect(capture.install, sender=self, dispatch_uid="sync-capture-triggers")
        checks.register(entity_types_are_registered)
        register(MenuEntry(label=_("Sync Configuration"), url_name="sync:configuration",
                           permission=VIEW_BCP_CONFIGURATIONS, order=90, section="sync:"))
