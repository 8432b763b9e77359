from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnablementConfig(AppConfig):
    name = "enablement"
    verbose_name = _("BC Enablement")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.menu import MenuEntry, register
        from accounts.roles import VIEW_BCP_ENABLEMENT

        from .middleware import remember_route

        user_logged_in.connect(remember_route, dispatch_uid="enablement.remember_route")
        register(MenuEntry(label=_("BC Enablement"), url_name="enablement:page", permission=VIEW_BCP_ENABLEMENT,
                           order=95, section="enablement:"))
