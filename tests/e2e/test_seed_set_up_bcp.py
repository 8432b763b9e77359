"""The seed page "Set Up Business Continuity Plan" from beginning to end, in one browser session, in its
order: the representative maps the primary to the BCP tenant (Validate, Generate Passkey, copy it, Finish,
Save), enables BCP on the BCP tenant without a new passkey, impersonates the primary and grants its
Administrator role View and Edit for both BCP permissions; the tenant administrator then sees them.
Axe runs on every screen on the way (inside the step functions)."""

from accounts.roles import ADMINISTRATOR
from accounts.services import role_permissions
from bcp_project.permissions import (
    CHANGE_BCP_CONFIGURATIONS,
    CHANGE_BCP_ENABLEMENT,
    VIEW_BCP_CONFIGURATIONS,
    VIEW_BCP_ENABLEMENT,
)
from tenants.bcp.services import passkey_matches
from tenants.models import BcpMapping
from tests.e2e.test_bcp_permissions import (
    grant_bcp_permissions_by_impersonating,
    tenant_administrator_sees_the_bcp_permissions,
)
from tests.e2e.test_bcp_wizard import set_up_the_pair
from tests.factories import role_of
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401


def test_set_up_bcp_as_the_seed_page_says(page, sign_in, accessible, rep, tenant_admin, tenant, bcp_tenant,
                                          password):
    sign_in(page, "rep", password)

    # Steps 1 and 2: the primary through the pop-up, then the BCP tenant.
    passkey = set_up_the_pair(page, accessible, bcp_tenant=bcp_tenant)
    mapping = BcpMapping.objects.get(primary=tenant, secondary=bcp_tenant)
    assert mapping.secondary_enabled
    assert passkey_matches(mapping, passkey), "the passkey copied on the primary still works after step 2"

    # Step 3: Impersonate & Support on the primary, Roles and Permissions, Administrator, BCP, Save.
    grant_bcp_permissions_by_impersonating(page, accessible, tenant=tenant)
    assert {VIEW_BCP_CONFIGURATIONS, CHANGE_BCP_CONFIGURATIONS, VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT} <= \
        role_permissions(role=role_of(tenant, ADMINISTRATOR))

    # The tenant administrator of the primary now holds them.
    tenant_administrator_sees_the_bcp_permissions(page, sign_in, accessible, password=password)
