import uuid

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from bcp_project.permissions import is_account_representative
from bcp_project.regions import health

from .models import BcpMapping, Region, Tenant


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except (ValueError, AttributeError):
        return None


def tenant_list(*, user, search: str = "", region_code: str = "", state: str = "") -> QuerySet[Tenant]:
    """Tenants an account representative can see: all of them. Anyone else sees none. `on_bcp` says whether the
    tenant is a primary whose BCP tenant is active now. `state` narrows the list to those ("on_backup") or to the
    tenants whose region's database does not answer ("not_answering")."""
    if not is_account_representative(user):
        return Tenant.objects.none()
    switched = BcpMapping.objects.filter(primary=OuterRef("pk"), active_side=BcpMapping.Side.SECONDARY)
    qs = Tenant.objects.select_related("region").annotate(on_bcp=Exists(switched)).order_by("name", "id")
    if state == "on_backup":
        qs = qs.filter(on_bcp=True)
    elif state == "not_answering":
        qs = qs.filter(region__code__in=list(regions_not_answering()))
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
