"""The permissions of the platform, named once, and the one test of who is an account representative.

They are declared on tenants.Tenant (see its Meta): the tenant role codenames are django-guardian object
permissions a role holds on its own tenant; `tm_admin` is the global permission of platform staff. Every app
may import this module (bcp_project is the layer below all apps); it imports nothing that needs the app
registry, so models may use it too."""

from django.utils.translation import gettext_lazy as _

# The app label of the model that declares them: "tenants.<codename>" is what has_perm() takes.
APP_LABEL = "tenants"

# Account representatives (Tenant Management): a global permission, never an object permission.
TM_ADMIN = "tm_admin"

# Codenames of the object permissions on tenants.Tenant that make up a role.
ACCESS_ADMIN = "access_admin"
MANAGE_ROLES = "manage_roles"
VIEW_CONFIGURATION = "view_configuration"
CHANGE_CONFIGURATION = "change_configuration"
VIEW_BCP_CONFIGURATIONS = "view_bcp_configurations"
CHANGE_BCP_CONFIGURATIONS = "change_bcp_configurations"
VIEW_BCP_ENABLEMENT = "view_bcp_enablement"
CHANGE_BCP_ENABLEMENT = "change_bcp_enablement"
# Reading the continuity plan needs only a place in the tenant; changing it needs this.
CHANGE_CONTINUITY_PLAN = "change_continuity_plan"

ROLE_PERMISSIONS = [
    ACCESS_ADMIN,
    MANAGE_ROLES,
    VIEW_CONFIGURATION,
    CHANGE_CONFIGURATION,
    VIEW_BCP_CONFIGURATIONS,
    CHANGE_BCP_CONFIGURATIONS,
    VIEW_BCP_ENABLEMENT,
    CHANGE_BCP_ENABLEMENT,
    CHANGE_CONTINUITY_PLAN,
]

# (codename, label) as tenants.Tenant declares them; the order is the migration's.
TENANT_PERMISSIONS = [
    (TM_ADMIN, _("Tenant Management (account representative)")),
    (ACCESS_ADMIN, _("Open the Admin application")),
    (MANAGE_ROLES, _("Manage roles and permissions")),
    (VIEW_CONFIGURATION, _("View the contact-center configuration")),
    (CHANGE_CONFIGURATION, _("Change the contact-center configuration")),
    (VIEW_BCP_CONFIGURATIONS, _("BCP Configurations: View")),
    (CHANGE_BCP_CONFIGURATIONS, _("BCP Configurations: Edit")),
    (VIEW_BCP_ENABLEMENT, _("BCP Tenant Enablement: View")),
    (CHANGE_BCP_ENABLEMENT, _("BCP Tenant Enablement: Edit")),
    (CHANGE_CONTINUITY_PLAN, _("Continuity Plan: Edit")),
]


def qualified(codename: str) -> str:
    """"tenants.<codename>": the name has_perm(), assign_perm() and remove_perm() take."""
    return f"{APP_LABEL}.{codename}"


def is_account_representative(user) -> bool:
    """Platform staff with Tenant Management: no tenant of their own, and the global tm_admin permission."""
    return bool(user.is_authenticated and user.tenant_id is None and user.has_perm(qualified(TM_ADMIN)))
