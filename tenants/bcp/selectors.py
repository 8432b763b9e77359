"""Reads for the BCP wizard and the Applications & Features tab. Callers have already checked that the
user is an account representative (tm_required + tenant_get), who may see every tenant."""

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from ..models import BcpMapping, Region, Tenant


@dataclass(frozen=True)
class BcpState:
    """What the Applications & Features tab says about BCP for one tenant."""

    mapping: BcpMapping | None
    side: str | None  # "primary", "secondary" or None
    partner: Tenant | None

    @property
    def is_on(self) -> bool:
        if self.mapping is None:
            return False
        return self.side == BcpMapping.Side.PRIMARY or self.mapping.secondary_enabled

    @property
    def is_primary(self) -> bool:
        return self.side == BcpMapping.Side.PRIMARY

    @property
    def is_secondary(self) -> bool:
        return self.side == BcpMapping.Side.SECONDARY


def mapping_for_tenant(*, tenant: Tenant, side: str | None = None) -> BcpMapping | None:
    """The mapping this tenant belongs to, on either side, or None; with `side`, only the one in which the tenant
    is on that side (BcpMapping.Side.PRIMARY: the pair it is the primary of). Both tenants come with it."""
    return (BcpMapping.objects.of_tenant(tenant, side=side).select_related("primary__region", "secondary__region")
            .first())


def bcp_state(*, tenant: Tenant) -> BcpState:
    mapping = mapping_for_tenant(tenant=tenant)
    if mapping is None:
        return BcpState(mapping=None, side=None, partner=None)
    return BcpState(mapping=mapping, side=mapping.side_of(tenant), partner=mapping.partner_of(tenant))


def bcp_regions_available(*, primary: Tenant) -> QuerySet[Region]:
    """Where a BCP tenant may live: every region but the primary's."""
    return Region.objects.exclude(pk=primary.region_id).order_by("name")


def dr_tenant_choices(*, primary: Tenant, region: Region | None) -> QuerySet[Tenant]:
    """The tenants of `region` that could back up `primary`: not the primary, and in no BCP pair already (validating
    one of those would only be refused)."""
    if region is None:
        return Tenant.objects.none()
    return (Tenant.objects.filter(region=region, bcp_membership__isnull=True).exclude(pk=primary.pk)
            .order_by("name", "id"))


def dr_tenant_resolve(*, value) -> Tenant | None:
    """A tenant from a Tenant, a UUID or pasted text (spaces and braces around it are forgiven)."""
    if isinstance(value, Tenant):
        return value
    if value is None:
        return None
    text = str(value).strip().strip("{}").strip()
    try:
        tenant_id = uuid.UUID(text)
    except ValueError:
        return None
    return Tenant.objects.select_related("region").filter(pk=tenant_id).first()
