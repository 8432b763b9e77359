"""The permissions a tenant role can hold, and the roles every tenant starts with."""

from django.utils.translation import gettext_lazy as _

# Codenames of the object permissions on tenants.Tenant that make up a role.
ACCESS_ADMIN = "access_admin"
MANAGE_ROLES = "manage_roles"
VIEW_CONFIGURATION = "view_configuration"
CHANGE_CONFIGURATION = "change_configuration"
VIEW_BCP_CONFIGURATIONS = "view_bcp_configurations"
CHANGE_BCP_CONFIGURATIONS = "change_bcp_configurations"
VIEW_BCP_ENABLEMENT = "view_bcp_enablement"
CHANGE_BCP_ENABLEMENT = "change_bcp_enablement"

ROLE_PERMISSIONS = [
    ACCESS_ADMIN,
    MANAGE_ROLES,
    VIEW_CONFIGURATION,
    CHANGE_CONFIGURATION,
    VIEW_BCP_CONFIGURATIONS,
    CHANGE_BCP_CONFIGURATIONS,
    VIEW_BCP_ENABLEMENT,
    CHANGE_BCP_ENABLEMENT,
]

# An Edit permission always brings its View permission with it.
IMPLIES = {
    CHANGE_CONFIGURATION: VIEW_CONFIGURATION,
    CHANGE_BCP_CONFIGURATIONS: VIEW_BCP_CONFIGURATIONS,
    CHANGE_BCP_ENABLEMENT: VIEW_BCP_ENABLEMENT,
    MANAGE_ROLES: ACCESS_ADMIN,
    VIEW_CONFIGURATION: ACCESS_ADMIN,
    VIEW_BCP_CONFIGURATIONS: ACCESS_ADMIN,
    VIEW_BCP_ENABLEMENT: ACCESS_ADMIN,
}

ADMINISTRATOR = "Administrator"
SUPERVISOR = "Supervisor"
AGENT = "Agent"

# BCP permissions are not granted by default: the seed's step 3 has the account representative
# grant them to the Administrator role.
DEFAULT_ROLES = {
    ADMINISTRATOR: (_("Manages the tenant's configuration and its roles."),
                    [ACCESS_ADMIN, MANAGE_ROLES, VIEW_CONFIGURATION, CHANGE_CONFIGURATION]),
    SUPERVISOR: (_("Leads a team; can look at the configuration."), [ACCESS_ADMIN, VIEW_CONFIGURATION]),
    AGENT: (_("Handles contacts."), []),
}


def with_implied(codenames) -> set[str]:
    result = set(codenames)
    changed = True
    while changed:
        changed = False
        for codename in list(result):
            implied = IMPLIES.get(codename)
            if implied and implied not in result:
                result.add(implied)
                changed = True
    return result
