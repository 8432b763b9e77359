"""Demo: Classics Inc. is mapped to Classics Inc. BCP (BCP turned on for both), its administrators hold the BCP
permissions (the seed's step 3), and a daily sync is enabled with its first run done. Idempotent."""

from accounts.models import Role
from accounts.roles import ADMINISTRATOR
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT
from tenants.bcp.selectors import mapping_for_tenant
from tenants.bcp.services import mapping_create, mapping_enable_secondary, passkey_hash
from tenants.models import BcpMapping

from .models import SyncRun
from .services import sync_enable, sync_run_execute

# Only ever the demo's: shown in the README so that people trying it can switch.
DEMO_PASSKEY = "DEMO-BCPK-EYCL-ASSI-CSAB-CDEF-GHJK"


def seed(*, tenants) -> BcpMapping:
    primary, secondary = tenants["Classics Inc."], tenants["Classics Inc. BCP"]
    actor = Actor.system()
    mapping = mapping_for_tenant(tenant=primary, side=BcpMapping.Side.PRIMARY) or mapping_create(
        primary=primary, secondary=secondary, region=secondary.region, passkey_hash=passkey_hash(DEMO_PASSKEY),
        configurations_enabled=True, enablement_enabled=True, actor=actor)
    if not mapping.secondary_enabled:  # the seed's last step: BCP turned on for the BCP tenant too
        mapping = mapping_enable_secondary(mapping=mapping, configurations_enabled=True, enablement_enabled=True,
                                           actor=actor)
    bcp = [CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT]
    role_set_permissions(role=Role.objects.get(tenant=primary, name=ADMINISTRATOR), permissions=bcp, scope=bcp,
                         actor=actor)
    configuration = getattr(mapping, "sync_configuration", None)
    if configuration is None or not configuration.enabled:
        _configuration, run = sync_enable(tenant=primary, actor=actor)
        if run is not None:
            # The first run happens here, not on a worker, so the demo starts with one run done.
            SyncRun.objects.using(run._state.db).filter(pk=run.pk).update(trigger=SyncRun.Trigger.FIRST)
            sync_run_execute(run_id=run.pk, region=run._state.db)
    return mapping
