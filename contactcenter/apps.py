from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactcenterConfig(AppConfig):
    name = "contactcenter"
    verbose_name = _("Contact-center configuration")

    def ready(self):
        from accounts.menu import MenuEntry, register
        from bcp_project.permissions import CHANGE_CONFIGURATION, VIEW_CONFIGURATION

        from .registry import REGISTRY

        for spec in REGISTRY.types:
            register(MenuEntry(label=spec.label_plural, url_name=spec.url_name("list"), permission=VIEW_CONFIGURATION,
                               order=spec.menu_order, section=f"contactcenter:{spec.key}_"))
        # Only those who can change the configuration import; the names do not start with "user_" so the
        # Users entry is not marked current on the import pages.
        register(MenuEntry(label=_("Import users"), url_name="contactcenter:users_import",
                           permission=CHANGE_CONFIGURATION, order=11, section="contactcenter:users_import"))
