from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from . import signals  # noqa: F401
        from .menu import MenuEntry, register
        from .roles import MANAGE_ROLES

        register(MenuEntry(label=_("Roles and Permissions"), url_name="accounts:role_list", permission=MANAGE_ROLES,
                           order=10, section="accounts:role_"))
