"""What the Applications & Features tab needs to show BCP: the saved state and any set-up waiting for Save."""

from dataclasses import dataclass

from ..models import Region, Tenant
from .selectors import BcpState, bcp_state
from .wizard import MODE_PRIMARY, WizardState, wizard_drop, wizard_get


@dataclass(frozen=True)
class PendingSetUp:
    """A finished wizard run that Save has not stored yet."""

    wizard: WizardState
    secondary: Tenant | None = None
    region: Region | None = None

    @property
    def is_primary(self) -> bool:
        return self.wizard.mode == MODE_PRIMARY


def bcp_tab_context(request, *, tenant: Tenant, drop_unfinished: bool) -> dict:
    """drop_unfinished: a fresh visit to the tab ends a wizard run that was left before Finish."""
    state: BcpState = bcp_state(tenant=tenant)
    wizard = wizard_get(request, tenant=tenant)
    if wizard is not None and not wizard.finished and drop_unfinished:
        wizard_drop(request, tenant=tenant)
        wizard = None
    pending = None
    if wizard is not None and wizard.finished:
        if wizard.mode == MODE_PRIMARY:
            secondary = Tenant.objects.select_related("region").filter(pk=wizard.secondary_id).first()
            region = Region.objects.filter(pk=wizard.region_id).first()
            pending = PendingSetUp(wizard=wizard, secondary=secondary, region=region)
        else:
            pending = PendingSetUp(wizard=wizard)
    return {"bcp": state, "bcp_pending": pending}
