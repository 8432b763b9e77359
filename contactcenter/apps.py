from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactcenterConfig(AppConfig):
    name = "contactcenter"
    verbose_name = _("Contact-center configuration")

    def ready(self):
        from accounts.menu import MenuEntry, register
        from accounts.roles import VIEW_CONFIGURATION

        from .registry import REGISTRY

        for spec in REGISTRY.types:
            register(MenuEntry(label=spec.label_plural, url_name=spec.url_name("list"), permission=VIEW_CONFIGURATION,
                               order=spec.menu_order, section=f"contactcenter:{spec.key}_"))
