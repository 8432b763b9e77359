"""How the permissions of a tenant role relate, and the roles every tenant starts with. The codenames
themselves are named once in bcp_project.permissions."""

from django.utils.translation import gettext_lazy as _

from bcp_project.permissions import (
    ACCESS_ADMIN,
    CHANGE_BCP_CONFIGURATIONS,
    CHANGE_BCP_ENABLEMENT,
    CHANGE_CONFIGURATION,
    CHANGE_CONTINUITY_PLAN,
    MANAGE_ROLES,
    VIEW_BCP_CONFIGURATIONS,
    VIEW_BCP_ENABLEMENT,
    VIEW_CONFIGURATION,
)

# An Edit permission always brings its View permission with it.
IMPLIES = {
    CHANGE_CONFIGURATION: VIEW_CONFIGURATION,
    CHANGE_BCP_CONFIGURATIONS: VIEW_BCP_CONFIGURATIONS,
    CHANGE_BCP_ENABLEMENT: VIEW_BCP_ENABLEMENT,
    MANAGE_ROLES: ACCESS_ADMIN,
    CHANGE_CONTINUITY_PLAN: ACCESS_ADMIN,
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
                    [ACCESS_ADMIN, MANAGE_ROLES, VIEW_CONFIGURATION, CHANGE_CONFIGURATION, CHANGE_CONTINUITY_PLAN]),
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
