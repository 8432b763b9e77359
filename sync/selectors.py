"""Reads for the Sync Configuration pages, scoped to the tenant whose Admin the person opened."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q
from django.shortcuts import get_object_or_404

from bcp_project.regions import alias_for_mapping, alias_for_tenant, health
from bcp_project.regions.health import RegionState
from contactcenter.models import AgentProfile, Deletion
from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping, Tenant

from .engine import capture
from .engine.ids import content_hash
from .engine.registry import BY_KEY, ENTITIES
from .models import Correlation, SyncConfiguration, SyncRun


@dataclass(frozen=True)
class SyncState:
    tenant: Tenant
    mapping: BcpMapping | None
    configuration: SyncConfiguration | None
    active_run: SyncRun | None
    last_run: SyncRun | None
    last_success: SyncRun | None
    # The first of the pair's regions (the primary's, then the backup's) marked not answering, else None.
    region_down: object = None

    @property
    def is_primary(self) -> bool:
        return self.mapping is not None and self.mapping.primary_id == self.tenant.pk

    @property
    def is_secondary(self) -> bool:
        return self.mapping is not None and self.mapping.secondary_id == self.tenant.pk

    @property
    def enabled(self) -> bool:
        return self.configuration is not None and self.configuration.enabled

    @property
    def bcp_active(self) -> bool:
        return self.mapping is not None and self.mapping.active_side == BcpMapping.Side.SECONDARY


def sync_state(*, tenant: Tenant) -> SyncState:
    mapping = mapping_for_tenant(tenant=tenant)
    configuration = active = last = success = None
    if mapping is not None:
        configuration = SyncConfiguration.objects.filter(mapping=mapping).first()
        runs = SyncRun.objects.filter(mapping=mapping)
        active = runs.filter(status__in=SyncRun.ACTIVE).first()
        # PostgreSQL puts NULL first in a descending order, SQLite last: a run without an end must not be the last.
        latest = (F("finished_at").desc(nulls_last=True), "-id")
        last = runs.exclude(status__in=SyncRun.ACTIVE).order_by(*latest).first()
        success = runs.filter(status=SyncRun.Status.SUCCEEDED).order_by(*latest).first()
    return SyncState(tenant=tenant, mapping=mapping, configuration=configuration, active_run=active, last_run=last,
                     last_success=success, region_down=region_down(mapping=mapping) if mapping is not None else None)


def region_down(*, mapping: BcpMapping) -> RegionState | None:
    """The first of the pair's regions, the primary's then the backup's, marked not answering (with since when,
    from the control plane), or None. The marker is memoised per process: no read while both answer."""
    for alias in dict.fromkeys((alias_for_tenant(mapping.primary), alias_for_mapping(mapping))):
        if health.is_down(alias):
            return health.state(alias)
    return None


def sync_run_list(*, mapping: BcpMapping, status: str = ""):
    # The runs are in the backup's region, the people who started them in the control plane: one read each.
    runs = SyncRun.objects.filter(mapping=mapping).prefetch_related("requested_by")
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-queued_at", "-id")


def sync_run_get(*, mapping: BcpMapping, pk: int) -> SyncRun:
    return get_object_or_404(SyncRun.objects.filter(mapping=mapping), pk=pk)


@dataclass(frozen=True)
class Change:
    entity: object
    name: str
    kind: str  # "created", "changed" or "deleted"
    when: datetime


LIMIT = 50


def _as_synced(mapping: BcpMapping, entity, ids: list[int]) -> set[int]:
    """Of these primary records, those the BCP tenant has as they are now: their correlation's hash is their content
    hash (a run copied them, or they were carried back from the BCP tenant, or given an account there). A fixed
    number of queries: the correlations, the rows and their children (none when there is nothing to compare)."""
    if not ids:
        return set()
    digests = dict(Correlation.objects.filter(mapping=mapping, entity_type=entity.key, source_id__in=ids)
                   .values_list("source_id", "content_hash"))
    if not digests:
        return set()
    rows = entity.read(mapping.primary_id, list(digests))
    children = entity.read_children(mapping.primary_id, list(digests))
    return {pk for pk, values in rows.items()
            if content_hash(values, {child.key: children[child.key].get(pk, []) for child in entity.children})
            == digests[pk]}


def changes_since(*, mapping: BcpMapping, since: datetime | None) -> dict:
    """The primary's records created, changed or deleted after `since` (the start of the last successful run),
    per entity type: what the BCP tenant would lack after a switch now. {key: (count, first LIMIT changes)}.

    A record touched after `since` is not listed when the BCP tenant has it as it is (see _as_synced): after a
    switch back, the records carried back and the accounts given there are the BCP tenant's already. A deletion is
    listed only while the BCP tenant still has a copy (a correlation)."""
    result = {}
    tenant_id = mapping.primary_id
    for entity in ENTITIES:
        if entity.key == "user":
            # The people are in the control plane, their agent settings in the tenant's region: read apart.
            profiles = AgentProfile.objects.filter(tenant_id=tenant_id)
            if since is not None:
                profiles = profiles.filter(updated_at__gt=since)
            touched = dict(profiles.values_list("user_id", "updated_at"))
            rows = entity.model.objects.filter(tenant_id=tenant_id)
            if since is not None:
                rows = rows.filter(Q(date_joined__gt=since) | Q(pk__in=list(touched)))
            found = list(rows.order_by("-date_joined").values_list("pk", "username", "date_joined"))
            found = [(pk, name, joined, max(d for d in (joined, touched.get(pk)) if d is not None))
                     for pk, name, joined in found]
        else:
            rows = entity.model.objects.filter(tenant_id=tenant_id)
            if since is not None:
                rows = rows.filter(updated_at__gt=since)
            found = list(rows.order_by("-updated_at").values_list("pk", "name", "created_at", "updated_at"))
        if since is not None:
            in_step = _as_synced(mapping, entity, [row[0] for row in found])
            found = [row for row in found if row[0] not in in_step]
        changes = [Change(entity, name, "created" if since is None or created > since else "changed", when)
                   for _pk, name, created, when in found[:LIMIT]]
        count = len(found)
        if since is not None:
            deleted = list(Deletion.objects.filter(tenant_id=tenant_id, entity_type=entity.key, deleted_at__gt=since)
                           .order_by("-deleted_at").values_list("object_id", "natural_key", "deleted_at"))
            copied = set(Correlation.objects.filter(mapping=mapping, entity_type=entity.key,
                                                    source_id__in=[row[0] for row in deleted])
                         .values_list("source_id", flat=True)) if deleted else set()
            deleted = [row for row in deleted if row[0] in copied]
            changes += [Change(entity, name, "deleted", when) for _pk, name, when in deleted[:LIMIT]]
            count += len(deleted)
        if count:
            result[entity.key] = (count, sorted(changes, key=lambda c: c.when, reverse=True)[:LIMIT])
    return result


@dataclass(frozen=True)
class CorrelatedPair:
    entity: object
    source_id: int | None
    source_name: str | None
    target_id: int | None
    target_name: str | None
    synced_at: datetime | None


def correlation_lookup(*, mapping: BcpMapping, entity_type: str, query: str, side: str) -> list[CorrelatedPair]:
    """Records whose name (or username) contains `query` on `side` ("primary" or "bcp"), each with its
    counterpart on the other tenant through the correlations."""
    entity = BY_KEY[entity_type]
    field = entity.describe_field
    tenant_id = mapping.primary_id if side == "primary" else mapping.secondary_id
    rows = entity.model.objects.filter(tenant_id=tenant_id)
    if query:
        rows = rows.filter(**{f"{field}__icontains": query})
    found = dict(rows.order_by(field).values_list("pk", field)[:LIMIT])
    correlations = Correlation.objects.filter(mapping=mapping, entity_type=entity_type)
    if side == "primary":
        links = {c.source_id: c for c in correlations.filter(source_id__in=found)}
        other = dict(entity.model.objects.filter(tenant_id=mapping.secondary_id,
                                                 pk__in=[c.target_id for c in links.values()])
                     .values_list("pk", field))
        return [CorrelatedPair(entity, pk, name, links[pk].target_id if pk in links else None,
                               other.get(links[pk].target_id) if pk in links else None,
                               links[pk].synced_at if pk in links else None) for pk, name in found.items()]
    links = {c.target_id: c for c in correlations.filter(target_id__in=found)}
    other = dict(entity.model.objects.filter(tenant_id=mapping.primary_id, pk__in=[c.source_id for c in links.values()])
                 .values_list("pk", field))
    return [CorrelatedPair(entity, links[pk].source_id if pk in links else None,
                           other.get(links[pk].source_id) if pk in links else None, pk, name,
                           links[pk].synced_at if pk in links else None) for pk, name in found.items()]


def tenants_with_changes(alias: str) -> set:
    """Tenants with changes to their synced records logged in database `alias` (a region's, or the control plane's
    for roles and users) that no run has read yet: a primary (its pair has work) or a BCP tenant (a copy was
    changed; its pair's next run puts it back). Every write counts, raw SQL and QuerySet.update() included."""
    return capture.tenants_with_changes(alias)
