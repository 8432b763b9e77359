from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from bcp_project.permissions import MANAGE_ROLES
        from tenants.signals import tenant_created

        from . import signals
        from .menu import MenuEntry, register

        # tenants sits below accounts and may not call it: it announces a new tenant, and accounts adds the roles.
        tenant_created.connect(signals.tenant_given_default_roles, dispatch_uid="accounts.tenant_default_roles")

        register(MenuEntry(label=_("Roles and Permissions"), url_name="accounts:role_list", permission=MANAGE_ROLES,
                           order=10, section="accounts:role_"))
