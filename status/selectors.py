"""Platform status, read: how well a tenant is doing right now (the worse of its own status and its region's),
the statuses account representatives set, and who subscribed to hear of a change."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from bcp_project.regions import health, region_label
from tenants.models import Region, Tenant

from .models import PlatformStatus, StatusLevel, StatusSubscription


@dataclass(frozen=True)
class EffectiveStatus:
    """How a tenant is doing: the worse of its own status and its region's (the tenant's own on a tie)."""

    level: str = StatusLevel.OPERATIONAL
    message: str = ""
    updated_at: datetime | None = None
    source: str = ""  # "tenant", "region", or "" when nothing was ever set

    @property
    def label(self) -> str:
        return StatusLevel(self.level).label

    @property
    def is_outage(self) -> bool:
        return self.level == StatusLevel.OUTAGE

    @property
    def is_operational(self) -> bool:
        return self.level == StatusLevel.OPERATIONAL


def _severity(level: str) -> int:
    return StatusLevel(level).severity


def _worse(rows: Iterable[dict]) -> EffectiveStatus:
    best = EffectiveStatus()
    best_key = (-1, -1)
    for row in rows:
        source = "tenant" if row["tenant_id"] is not None else "region"
        key = (_severity(row["level"]), 1 if source == "tenant" else 0)
        if key > best_key:
            best_key = key
            best = EffectiveStatus(level=row["level"], message=row["message"], updated_at=row["updated_at"],
                                   source=source)
    return best


_ROW = ("tenant_id", "region_id", "level", "message", "updated_at")


def effective_status(*, tenant: Tenant) -> EffectiveStatus:
    """One indexed query: the tenant's own row and its region's."""
    rows = PlatformStatus.objects.filter(Q(tenant_id=tenant.pk) | Q(region_id=tenant.region_id)).values(*_ROW)
    return _worse(rows)


def effective_status_by_tenant_id(*, tenant_id) -> EffectiveStatus:
    """The same for a tenant known only by its id (a signed-in user's): still one query, the region found by a
    subquery on the tenant's primary key."""
    region_id = Tenant.objects.filter(pk=tenant_id).values("region_id")
    rows = PlatformStatus.objects.filter(Q(tenant_id=tenant_id) | Q(region_id__in=region_id)).values(*_ROW)
    return _worse(rows)


def effective_statuses(*, tenants: Iterable[Tenant]) -> dict:
    """Tenant id → EffectiveStatus for several tenants, in one query."""
    tenants = list(tenants)
    rows = list(PlatformStatus.objects.filter(
        Q(tenant_id__in=[t.pk for t in tenants]) | Q(region_id__in={t.region_id for t in tenants})).values(*_ROW))
    return {t.pk: _worse(r for r in rows if r["tenant_id"] == t.pk or r["region_id"] == t.region_id)
            for t in tenants}


def statuses_set(*, tenants: Iterable[Tenant]) -> dict:
    """Tenant id → (its region's status, its own status) as a representative set them, each operational when
    nothing was set, for several tenants in one query (BC Enablement shows both, with their messages)."""
    tenants = list(tenants)
    rows = list(PlatformStatus.objects.filter(
        Q(tenant_id__in=[t.pk for t in tenants]) | Q(region_id__in={t.region_id for t in tenants})).values(*_ROW))
    return {t.pk: (_worse(r for r in rows if r["tenant_id"] is None and r["region_id"] == t.region_id),
                   _worse(r for r in rows if r["tenant_id"] == t.pk))
            for t in tenants}


def platform_status_of(*, region: Region | None = None, tenant: Tenant | None = None) -> PlatformStatus | None:
    """The row set for exactly this region or tenant (not the effective status), or None. A row names one of
    the two and leaves the other empty, so asking for both, or for neither, finds none."""
    return PlatformStatus.objects.filter(region=region, tenant=tenant).first()


def platform_status_list(*, user, search: str = "") -> QuerySet[PlatformStatus]:
    """For account representatives: every region and tenant that is not operational, worst and newest first."""
    if not user.has_perm("tenants.tm_admin") or user.tenant_id is not None:
        return PlatformStatus.objects.none()
    qs = (PlatformStatus.objects.exclude(level=StatusLevel.OPERATIONAL)
          .select_related("region", "tenant", "tenant__region", "updated_by")
          .annotate(severity=Case(*(When(level=level, then=Value(_severity(level))) for level in StatusLevel.values),
                                  output_field=IntegerField()))
          .order_by("-severity", "-updated_at", "-pk"))
    search = search.strip()
    if search:
        qs = qs.filter(Q(region__name__icontains=search) | Q(tenant__name__icontains=search))
    return qs


def region_status_list() -> QuerySet[Region]:
    """Every region with its status row, if any (`region.platform_status`), in one query."""
    return Region.objects.select_related("platform_status").order_by("name")


def region_databases() -> dict:
    """Each region's database as the control plane records it (answering, or not and since when): what the
    representatives see beside the status they set. One query."""
    return {state.alias: state for state in health.states()}


def databases_down(databases: dict) -> list[str]:
    """The names of the regions whose database is recorded as not answering."""
    return [region_label(alias) for alias, state in databases.items() if not state.answering]


def status_subscribed(*, user) -> bool:
    if user.tenant_id is None:
        return False
    return StatusSubscription.objects.filter(user=user, tenant_id=user.tenant_id).exists()


def deliverable_subscriptions(tenant_ids) -> QuerySet[StatusSubscription]:
    """Subscriptions that can still be delivered: an active user with an email, still in that tenant."""
    return (StatusSubscription.objects.filter(tenant_id__in=tenant_ids, user__is_active=True,
                                              user__tenant_id=F("tenant_id"))
            .exclude(user__email=""))


def subscriber_emails(*, tenants: Iterable[Tenant]) -> list[str]:
    """The addresses of everyone subscribed to status alerts for any of these tenants, each once, sorted.
    The switch to the BCP tenant and back emails them."""
    tenant_ids = [tenant.pk for tenant in tenants]
    if not tenant_ids:
        return []
    emails = deliverable_subscriptions(tenant_ids).values_list("user__email", flat=True)
    unique = {}
    for email in emails:
        unique.setdefault(email.lower(), email)
    return sorted(unique.values(), key=str.lower)


def subscriber_count(*, region: Region | None = None, tenant: Tenant | None = None) -> int:
    """How many subscribers a change of this region's or tenant's status would email."""
    return deliverable_subscriptions(affected_tenant_ids(region=region, tenant=tenant)).count()


def affected_tenant_ids(*, region: Region | None, tenant: Tenant | None):
    """The tenants a status of this tenant, or of this region, concerns (a list or a subquery)."""
    if tenant is not None:
        return [tenant.pk]
    return Tenant.objects.filter(region=region).values("pk")
