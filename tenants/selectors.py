import uuid

from django.db.models import Q, QuerySet
from django.http import Http404

from bcp_project.permissions import is_account_representative
from bcp_project.regions import health

from .models import Region, Tenant


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except (ValueError, AttributeError):
        return None


def tenant_list(*, user, search: str = "", region_code: str = "") -> QuerySet[Tenant]:
    """Tenants an account representative can see: all of them. Anyone else sees none."""
    if not is_account_representative(user):
        return Tenant.objects.none()
    qs = Tenant.objects.select_related("region").order_by("name", "id")
    search = search.strip()
    if search:
        tenant_id = _as_uuid(search)
        qs = qs.filter(pk=tenant_id) if tenant_id else qs.filter(Q(name__icontains=search))
    if region_code:
        qs = qs.filter(region__code=region_code)
    return qs


def tenant_get(*, user, tenant_id) -> Tenant:
    tenant_uuid = _as_uuid(str(tenant_id))
    if tenant_uuid is None:
        raise Http404
    try:
        return tenant_list(user=user).get(pk=tenant_uuid)
    except Tenant.DoesNotExist:
        raise Http404 from None


def region_list() -> QuerySet[Region]:
    return Region.objects.order_by("name")


def regions_not_answering() -> dict:
    """Region code -> its health (bcp_project.regions.health.RegionState, with since-when, as the control plane
    keeps it) for every region whose database does not answer now."""
    return {state.alias: state for state in health.states() if not state.answering or health.is_down(state.alias)}
