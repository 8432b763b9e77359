"""Every write of the sync: its configuration, its runs and the dispatcher that starts them.

Services take who acts as an `Actor` (a person, or the system for scheduled work); only views build
one from a request. Tasks take ids and call these.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, InterfaceError, OperationalError, connections, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import Actor, audit_record
from bcp_project.celery import BROKER_ERRORS
from bcp_project.exceptions import ApplicationError
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS
from bcp_project.regions import CONTROL, RegionUnavailable, RegionUnknown, alias_for_mapping, alias_for_tenant, aliases
from bcp_project.regions.deadline import longer_deadline
from bcp_project.templatetags.times import when_text
from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping, Tenant, TenantGroupObjectPermission

from .carryback import carry_back_repair
from .engine import Engine, SyncCrash, SyncInterrupted
from .engine.ids import IdMaps, content_hash
from .engine.registry import ALL_KEYS, BY_KEY, missing_dependencies, selected_keys
from .engine.snapshot import AnotherRunWriting, pair_barrier
from .engine.state import ProgressChannel, region_answers
from .models import INTERVALS, CarryBack, Correlation, Fence, Frequency, SyncConfiguration, SyncRun

logger = logging.getLogger(__name__)

# The Celery task that runs one sync run (tasks.run_sync).
RUN_TASK = "sync.run"
# A running run whose worker has written no progress for this long has lost its worker.
STALE_AFTER = timedelta(seconds=120)
# A queued run no worker has taken for this long is sent again (its message may be lost).
REQUEUE_AFTER = timedelta(seconds=90)
# Continuous mode waits this long after the first change, so that a burst of changes makes one run.
CONTINUOUS_SETTLE = timedelta(seconds=5)
# "No successful sync for too long" means older than the interval plus this.
STALE_GRACE = timedelta(hours=2)
# A pair whose run found a region's database not answering waits this long before the dispatcher starts another,
# doubling with each such run up to BACKOFF_MAX: a region that is down gets no storm of runs.
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=30)


def queue_for(region: str) -> str:
    """The Celery queue of a region's sync runs: the backup's region pulls, so its workers can live there."""
    return f"sync.{region}"


def route_task(name, args, kwargs, options, task=None, **kw):
    """Celery router (settings.CELERY_TASK_ROUTES): a sync run goes to the queue of the backup's region."""
    if name == RUN_TASK:
        region = (kwargs or {}).get("region") or (args[1] if args and len(args) > 1 else None)
        if region:
            return {"queue": queue_for(region)}
    return None


def worker_queues() -> list[str]:
    """Every queue a worker of `make run` and CI consumes: the default queue and every region's sync queue."""
    return [current_app.conf.task_default_queue or "celery", *(queue_for(region) for region in aliases())]


class SyncError(ApplicationError):
    """A sync step that cannot be done as asked; the message says what to do instead."""


# --- scheduling -----------------------------------------------------------------------------------------


def next_slot(*, anchor: datetime, interval: timedelta, after: datetime) -> datetime:
    """The first time after `after` that falls on the anchor's time of day, stepped by `interval`."""
    if after < anchor:
        return anchor
    steps = (after - anchor) // interval + 1
    return anchor + steps * interval


def _mapping_of_primary(tenant: Tenant) -> BcpMapping:
    mapping = mapping_for_tenant(tenant=tenant, side=BcpMapping.Side.PRIMARY)
    if mapping is None:
        raise SyncError(_("This tenant has no BCP tenant to sync to. Your account representative maps one in "
                          "Tenant Management first."))
    return mapping


def _lock(configuration: SyncConfiguration) -> SyncConfiguration:
    return SyncConfiguration.objects.select_for_update().select_related("mapping").get(pk=configuration.pk)


@transaction.atomic(using=CONTROL)
def sync_enable(*, tenant: Tenant, actor: Actor) -> tuple[SyncConfiguration, SyncRun | None]:
    """Turns the sync on for a primary tenant: scheduled from now on, at this time of day, and a first run
    starts at once so that the BCP tenant holds a copy straight away."""
    mapping = _mapping_of_primary(tenant)
    configuration, _created = SyncConfiguration.objects.get_or_create(mapping=mapping)
    configuration = _lock(configuration)
    if configuration.enabled:
        raise SyncError(_("Sync is already enabled for this tenant."))
    now = timezone.now()
    configuration.enabled = True
    configuration.anchor_at = now
    configuration.enabled_by = actor.user
    configuration.next_run_at = now + configuration.interval
    configuration.stale_alert_sent_at = None
    configuration.save()
    audit_record(action="sync.enable", by=actor, tenant=tenant, obj=configuration,
                 changes={"frequency": configuration.frequency, "next_run_at": configuration.next_run_at.isoformat()})
    run = None
    if mapping.active_side == BcpMapping.Side.PRIMARY:
        run = _queue(mapping=mapping, configuration=configuration, trigger=SyncRun.Trigger.FIRST, actor=actor)
    return configuration, run


@transaction.atomic(using=CONTROL)
def sync_settings_save(*, configuration: SyncConfiguration, frequency: str, custom: bool,
                       entity_types: list[str], actor: Actor) -> SyncConfiguration:
    configuration = _lock(configuration)
    if not configuration.enabled:
        raise SyncError(_("Enable Sync first; then choose its settings."))
    if frequency not in Frequency.values:
        raise SyncError(_("Choose how often to sync from the list."), field="frequency")
    chosen = selected_keys(custom=True, chosen=entity_types) if custom else []
    unknown = set(entity_types) - set(ALL_KEYS)
    if custom and unknown:
        raise SyncError(_("Choose the data to sync from the list."), field="entity_types")
    if custom and not chosen:
        raise SyncError(_("Choose at least one kind of data to sync, or go back to the default configuration."),
                        field="entity_types")
    gaps = missing_dependencies(chosen) if custom else {}
    if gaps:
        parts = [
            _("%(type)s need %(needed)s") % {"type": BY_KEY[key].label,
                                              "needed": ", ".join(str(BY_KEY[n].label) for n in ALL_KEYS if n in need)}
            for key, need in gaps.items()
        ]
        raise SyncError(_("This selection would copy records without what they link to: %(gaps)s. Include those "
                          "too, or leave out the records that need them.") % {"gaps": "; ".join(parts)},
                        field="entity_types")
    changes = {}
    if configuration.frequency != frequency:
        changes["frequency"] = [configuration.frequency, frequency]
        configuration.frequency = frequency
        configuration.next_run_at = next_slot(anchor=configuration.anchor_at, interval=configuration.interval,
                                              after=timezone.now())
    if configuration.custom != custom or list(configuration.entity_types) != chosen:
        changes["entity_types"] = [configuration.entity_types if configuration.custom else "all",
                                   chosen if custom else "all"]
        configuration.custom, configuration.entity_types = custom, chosen
    if changes:
        configuration.save()
        audit_record(action="sync.settings_change", by=actor, tenant=configuration.mapping.primary,
                     obj=configuration, changes=changes)
    return configuration


@transaction.atomic(using=CONTROL)
def sync_disable(*, configuration: SyncConfiguration, actor: Actor) -> SyncConfiguration:
    """No more scheduled runs; a run already going finishes, a queued one is skipped."""
    configuration = _lock(configuration)
    if not configuration.enabled:
        raise SyncError(_("Sync is already disabled for this tenant."))
    configuration.enabled = False
    configuration.next_run_at = None
    configuration.changes_pending_since = None
    configuration.save()
    SyncRun.objects.filter(mapping_id=configuration.mapping_id, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.SKIPPED, finished_at=timezone.now(), skip_reason="disabled")
    audit_record(action="sync.disable", by=actor, tenant=configuration.mapping.primary, obj=configuration)
    return configuration


# --- runs ---------------------------------------------------------------------------------------------------


def _enqueue(runs: list[tuple[int, str]]) -> None:
    """Sends (run id, backup's region) pairs; route_task puts each on its region's queue. By the task's name
    (tasks.py imports this module, not the other way round). One producer for the whole batch: a dispatch may
    queue a thousand runs at once."""
    with current_app.producer_or_acquire() as producer:
        for run_id, region in runs:
            current_app.send_task(RUN_TASK, (run_id, region), producer=producer)


def _enqueue_after_commit(run: SyncRun) -> None:
    """Hands the run to the task queue once the transaction has committed. A queue that does not answer then
    leaves the run saved and queued (run.waiting_for_queue says so to the caller): the dispatcher sends queued runs
    again after REQUEUE_AFTER, so it starts when the queue is back."""

    region = run._state.db

    def send():
        try:
            _enqueue([(run.pk, region)])
        except BROKER_ERRORS as exc:
            logger.warning("sync run %s is queued, but the task queue did not answer (%s: %s); the dispatcher sends "
                           "it again when the queue is back", run.pk, type(exc).__name__, exc)
            run.waiting_for_queue = True

    transaction.on_commit(send, using=CONTROL)


def _queue(*, mapping: BcpMapping, configuration: SyncConfiguration | None, trigger: str, actor: Actor,
           full: bool = False, enqueue: bool = True) -> SyncRun:
    keys = selected_keys(custom=configuration is not None and configuration.custom,
                         chosen=configuration.entity_types if configuration is not None else ())
    region = alias_for_mapping(mapping)
    try:
        with transaction.atomic(using=region):
            run = SyncRun.objects.using(region).create(mapping=mapping, trigger=trigger, requested_by=actor.user,
                                                       full=full, entity_types=keys)
    except IntegrityError:
        waiting = SyncRun.objects.using(region).filter(mapping=mapping, status=SyncRun.Status.QUEUED).exists()
        if waiting:  # saved, not started: perhaps the task queue was down when it was requested
            raise SyncError(_("A sync is already waiting to start for this tenant: it starts as soon as a worker "
                              "takes it (if the task queue was down, once it is back). Its progress is shown on "
                              "this page.")) from None
        raise SyncError(_("A sync is already running for this tenant. Wait for it to finish; its progress is "
                          "shown on this page.")) from None
    if enqueue:
        _enqueue_after_commit(run)
    return run


@transaction.atomic(using=CONTROL)
def sync_run_request(*, tenant: Tenant, actor: Actor, trigger: str = SyncRun.Trigger.MANUAL, full: bool = False,
                     enqueue: bool = True) -> SyncRun:
    """Sync now. With enqueue=False the caller runs it itself (the bcp_sync command)."""
    mapping = _mapping_of_primary(tenant)
    # Under the pair's lock: a switch committed before this is seen, and one submitted now waits for the run.
    mapping.active_side = BcpMapping.objects.locked().filter(pk=mapping.pk).values_list("active_side", flat=True).get()
    configuration = SyncConfiguration.objects.filter(mapping=mapping).first()
    if trigger == SyncRun.Trigger.MANUAL and (configuration is None or not configuration.enabled):
        raise SyncError(_("Enable Sync first; then you can start a run."))
    if mapping.active_side == BcpMapping.Side.SECONDARY:
        raise SyncError(_("The BCP tenant is active, so syncing is paused: copying now would overwrite what people "
                          "are changing there. Switch back to the primary on BC Enablement first."))
    run = _queue(mapping=mapping, configuration=configuration, trigger=trigger, actor=actor, full=full,
                 enqueue=enqueue)
    audit_record(action="sync.run_request", by=actor, tenant=tenant, obj=run, changes={"trigger": trigger})
    return run


def _region_of_run(run_id: int) -> str:
    """The backup's region holding run `run_id`, for callers that did not say (ids are per region database, so
    this is only for the one that holds a queued or running run of that id)."""
    found = [alias for alias in aliases()
             if SyncRun.objects.using(alias).filter(pk=run_id, status__in=SyncRun.ACTIVE).exists()]
    if len(found) != 1:
        raise RegionUnknown(f"sync run {run_id}: name its region ({found or 'none holds it'})")
    return found[0]


def fence_generation(*, mapping: BcpMapping) -> int:
    """The pair's fence generation in the backup's region (the row is made on first use)."""
    region = alias_for_mapping(mapping)
    fence, _created = Fence.objects.using(region).get_or_create(mapping_id=mapping.pk)
    return fence.generation


def sync_fence_move(*, mapping: BcpMapping) -> int:
    """A switch's first write: the pair's fence moves in the backup's region (committed at once, on its own), so
    that no run that started before it commits after it. Call it inside the switch's control-plane transaction,
    before the pair flips: on PostgreSQL it then takes the pair's commit barrier there, so a run that checked the
    fence before it moved has committed both its databases before the flip commits. A crash after the fence moved
    and before the flip leaves a moved fence and an unflipped pair: the next run reads the new generation, the
    next switch moves it again. Raises RegionUnavailable when the backup's region does not answer."""
    region = alias_for_mapping(mapping)
    try:
        with transaction.atomic(using=region):
            fence, _created = Fence.objects.using(region).select_for_update().get_or_create(mapping_id=mapping.pk)
            fence.generation += 1
            fence.moved_at = timezone.now()
            fence.save(update_fields=["generation", "moved_at"])
    except (OperationalError, InterfaceError) as exc:
        raise RegionUnavailable(region) from exc
    control = connections[CONTROL]
    if control.vendor == "postgresql" and control.in_atomic_block:
        with control.cursor() as cursor:
            pair_barrier(cursor, mapping.pk)
    return fence.generation


def sync_fence_hold(*, mapping: BcpMapping) -> None:
    """Locks the pair's fence row in the backup's region until the caller's transaction there ends, without moving
    it: a write outside a run (an account given on the active BCP tenant) that took the pair's row first, as a
    switch does, then sees everything the previous such write committed in both databases."""
    Fence.objects.using(alias_for_mapping(mapping)).select_for_update().filter(mapping_id=mapping.pk).first()


def sync_correlation_write(*, mapping: BcpMapping, entity_type: str, source_id: int, target_id: int) -> Correlation:
    """Joins a copy made outside a run (a person given an account on the active BCP tenant) to its primary record,
    as a run would have left it: the hash is the copy's as it is now, links in primary ids. The next run compares
    the two as one record and writes only what differs. A correlation of the same primary record whose copy is
    gone is replaced. Call it inside the transaction of the backup's region that writes the copy's rows there."""
    entity = BY_KEY[entity_type]
    tenant_id = mapping.secondary_id
    values = entity.read(tenant_id, [target_id])[target_id]
    children = {child.key: child.read(tenant_id, [target_id]) for child in entity.children}
    ids = IdMaps(mapping)
    digest = content_hash(ids.to_source(entity.columns, entity.links, values),
                          ids.children_to_source(entity, children, target_id))
    correlation, _created = Correlation.objects.using(alias_for_mapping(mapping)).update_or_create(
        mapping_id=mapping.pk, entity_type=entity_type, source_id=source_id,
        defaults={"target_id": target_id, "content_hash": digest, "synced_at": timezone.now()})
    return correlation


def sync_pair_forget(*, mapping: BcpMapping) -> None:
    """Before a BCP pair is deleted (signals.py, pre_delete): its runs, correlations, carry-backs and fence in the
    backup's region go first, since no cascade crosses databases. The fence row is locked first, so a run that is
    committing finishes before; a run that would commit later finds no fence and rolls back. Raises
    RegionUnavailable, naming the region, when the backup's region does not answer: the pair stays."""
    region = alias_for_mapping(mapping)
    try:
        with transaction.atomic(using=region):
            list(Fence.objects.using(region).select_for_update().filter(mapping_id=mapping.pk))
            Correlation.objects.using(region).filter(mapping_id=mapping.pk).delete()
            CarryBack.objects.using(region).filter(mapping_id=mapping.pk).delete()
            SyncRun.objects.using(region).filter(mapping_id=mapping.pk).delete()
            Fence.objects.using(region).filter(mapping_id=mapping.pk).delete()
    except (OperationalError, InterfaceError) as exc:
        raise RegionUnavailable(region) from exc


def sync_run_execute(*, run_id: int, region: str | None = None, on_progress=None) -> SyncRun | None:
    """Runs a queued run, or takes over one whose worker was lost. Returns None when another worker has it.
    `region` is the backup's region, where the run lives (the task carries it)."""
    region = region or _region_of_run(run_id)
    now = timezone.now()
    runs = SyncRun.objects.using(region)
    claimed = runs.filter(pk=run_id).filter(
        Q(status=SyncRun.Status.QUEUED) | Q(status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    ).update(status=SyncRun.Status.RUNNING, started_at=Coalesce(F("started_at"), now), heartbeat_at=now,
             attempts=F("attempts") + 1)
    if not claimed:
        return None
    run = runs.get(pk=run_id)
    run.mapping = BcpMapping.objects.using(CONTROL).select_related("primary__region", "secondary__region").get(
        pk=run.mapping_id)
    if run.mapping.active_side == BcpMapping.Side.SECONDARY:
        return _finish(run, status=SyncRun.Status.SKIPPED, skip_reason="bcp_active")
    progress = ProgressChannel(region)
    engine = Engine(run, entity_keys=run.entity_types or ALL_KEYS, full=run.full, on_progress=on_progress,
                    progress=progress)
    try:
        # A carry-back that a crash left half done is finished (or dropped) first, so that its records are one
        # record on both tenants before this run compares them (sync/carryback.py).
        carry_back_repair(mapping=run.mapping)
        generation = fence_generation(mapping=run.mapping)
        runs.filter(pk=run_id).update(fence_generation=generation)
        run.fence_generation = generation
        # A run's statements may take longer than a page's (bcp_project.regions.deadline): the same bound as the
        # server's own statement_timeout, so a hung source still ends the run, on our side.
        with longer_deadline(getattr(settings, "SYNC_STATEMENT_TIMEOUT", 300) + 30):
            engine.execute(generation=generation)
    except SyncCrash:
        raise
    except SyncInterrupted:
        run.counts = {}  # rolled back: nothing of it was written
        return _finish(run, status=SyncRun.Status.SKIPPED, skip_reason="switched")
    except AnotherRunWriting:
        run.counts = {}
        return _finish(run, status=SyncRun.Status.FAILED, errors=[{"code": "busy"}])
    except (RegionUnavailable, OperationalError, InterfaceError) as exc:
        logger.warning("sync run %s rolled back: %s: %s", run.pk, type(exc).__name__, exc)
        down = getattr(exc, "alias", None) or next(
            (alias for alias in (engine.state.source_alias, engine.state.target_alias, CONTROL)
             if not region_answers(alias)), None)
        run.counts = {}
        error = ({"code": "region_down", "region": down} if down is not None else
                 {"code": "error", "type": "", "detail": f"{type(exc).__name__}: {exc}"[:300]})
        return _finish(run, status=SyncRun.Status.FAILED, errors=[error], region_down=down is not None)
    except Exception as exc:  # a bug: the run says so, everything it wrote is rolled back, the next run starts over
        logger.exception("sync run %s stopped", run.pk)
        run.counts = {}
        return _finish(run, status=SyncRun.Status.FAILED,
                       errors=[{"code": "error", "type": "", "detail": f"{type(exc).__name__}: {exc}"[:300]}])
    finally:
        progress.close()
    run.counts = {key: counts.as_dict() for key, counts in engine.counts.items()}
    run.source_as_of = engine.as_of
    status = SyncRun.Status.FAILED if engine.errors else SyncRun.Status.SUCCEEDED
    return _finish(run, status=status, errors=engine.errors)


def _finish(run: SyncRun, *, status: str, errors=(), skip_reason: str = "", region_down: bool = False) -> SyncRun:
    region = run._state.db
    run.status = status
    run.errors = list(errors)
    run.skip_reason = skip_reason
    run.finished_at = timezone.now()
    run.current_type = ""
    run.heartbeat_at = run.finished_at
    fields = ("status", "errors", "skip_reason", "finished_at", "current_type", "counts", "source_as_of",
              "heartbeat_at")
    try:
        # An UPDATE, not a save: a pair removed meanwhile took its runs with it, and this then matches nothing.
        SyncRun.objects.using(region).filter(pk=run.pk).update(**{name: getattr(run, name) for name in fields})
    except (OperationalError, InterfaceError):
        # The backup's region itself is down: the run stays "running" there until its heartbeat is stale, and the
        # dispatcher (with its back-off) tries it again.
        logger.warning("sync run %s: its region %s does not answer; the result is not recorded", run.pk, region)
        _back_off(run.mapping_id)
        return run
    with transaction.atomic(using=CONTROL):
        actor = Actor(user=run.requested_by) if run.requested_by_id else Actor.system()
        audit_record(action="sync.run", by=actor, tenant=run.mapping.primary, obj=run,
                     changes={"status": status, "trigger": run.trigger, "totals": run.totals,
                              "errors": len(run.errors), "skip_reason": skip_reason,
                              "source_as_of": run.source_as_of.isoformat() if run.source_as_of else None})
        if status == SyncRun.Status.SUCCEEDED:
            SyncConfiguration.objects.filter(mapping_id=run.mapping_id).update(
                stale_alert_sent_at=None, retry_after=None, unavailable_runs=0)
        elif region_down:
            _back_off(run.mapping_id)
    if status == SyncRun.Status.FAILED:
        _notify(run.mapping.primary, "failed", run=run)
    return run


def _back_off(mapping_id: int) -> None:
    """The dispatcher starts no run for this pair before retry_after: 30 s, then twice as long each time."""
    configuration = SyncConfiguration.objects.filter(mapping_id=mapping_id).first()
    if configuration is None:
        return
    failures = configuration.unavailable_runs + 1
    wait = min(BACKOFF_FIRST * (2 ** min(failures - 1, 10)), BACKOFF_MAX)
    SyncConfiguration.objects.filter(pk=configuration.pk).update(unavailable_runs=failures,
                                                                 retry_after=timezone.now() + wait)


# --- the dispatcher ---------------------------------------------------------------------------------------


@dataclass
class Dispatch:
    queued: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    alerted: list[int] = field(default_factory=list)


def _claim_slot(row: dict, now: datetime) -> bool:
    """The conditional UPDATE that makes a due slot this dispatcher's: only one dispatcher sees count 1."""
    following = next_slot(anchor=row["anchor_at"], interval=INTERVALS[row["frequency"]], after=now)
    return bool(SyncConfiguration.objects.filter(pk=row["pk"], next_run_at=row["next_run_at"])
                .update(next_run_at=following))


def _claim_due(fields: tuple[str, ...], now: datetime):
    """The due configurations this dispatcher claims, each moved on to its next slot. PostgreSQL: one locking
    read that skips rows another dispatcher holds (a row it already moved on no longer matches), then one bulk
    UPDATE per chunk. Elsewhere: a conditional UPDATE per row, which SQLite runs one writer at a time. A pair in
    its back-off (its last run found a region down) is not due until the back-off ends."""
    due = SyncConfiguration.objects.filter(enabled=True, next_run_at__lte=now).exclude(retry_after__gt=now)
    if connections[CONTROL].vendor != "postgresql":
        for row in due.values(*fields).iterator(chunk_size=2000):
            if _claim_slot(row, now):
                yield row
        return
    rows = list(due.select_for_update(skip_locked=True, of=("self",)).values(*fields))
    claimed = [SyncConfiguration(pk=row["pk"], next_run_at=next_slot(
        anchor=row["anchor_at"], interval=INTERVALS[row["frequency"]], after=now)) for row in rows]
    SyncConfiguration.objects.bulk_update(claimed, ["next_run_at"], batch_size=1000)
    yield from rows


def _active_mappings() -> set[int]:
    return {mapping_id for alias in aliases()
            for mapping_id in SyncRun.objects.using(alias).filter(status__in=SyncRun.ACTIVE)
            .values_list("mapping_id", flat=True)}


@transaction.atomic(using=CONTROL)
def sync_dispatch(*, now: datetime | None = None) -> Dispatch:
    """Claims what is due and queues one run per mapping, each in its backup's region. A slot missed while beat
    was down is claimed once, and the next slot is computed from now, so two days without beat make one catch-up
    run, not a backlog. A region that does not answer costs its own pairs their runs, not the others'."""
    now = now or timezone.now()
    result = Dispatch()
    active = _active_mappings()
    fields = ("pk", "mapping_id", "anchor_at", "next_run_at", "frequency", "custom", "entity_types",
              "mapping__active_side", "mapping__secondary_id")
    new_runs: dict[str, list[SyncRun]] = {}

    def add(row, run):
        new_runs.setdefault(alias_for_tenant(row["mapping__secondary_id"]), []).append(run)

    for row in _claim_due(fields, now):
        if row["mapping_id"] in active:
            continue  # the run going now covers this slot
        if row["mapping__active_side"] == BcpMapping.Side.SECONDARY:
            add(row, SyncRun(mapping_id=row["mapping_id"], trigger=SyncRun.Trigger.SCHEDULE,
                             status=SyncRun.Status.SKIPPED, skip_reason="bcp_active", finished_at=now))
            continue
        add(row, SyncRun(mapping_id=row["mapping_id"], trigger=SyncRun.Trigger.SCHEDULE,
                         entity_types=selected_keys(custom=row["custom"], chosen=row["entity_types"])))
        active.add(row["mapping_id"])

    pending = SyncConfiguration.objects.filter(enabled=True, frequency=Frequency.CONTINUOUS,
                                               changes_pending_since__lte=now - CONTINUOUS_SETTLE).exclude(
        retry_after__gt=now).values(*fields, "changes_pending_since")
    for row in pending.iterator(chunk_size=2000):
        if row["mapping_id"] in active or row["mapping__active_side"] == BcpMapping.Side.SECONDARY:
            continue  # stays pending: the run after the current one (or after switching back) takes it
        if not SyncConfiguration.objects.filter(pk=row["pk"], changes_pending_since=row["changes_pending_since"]) \
                .update(changes_pending_since=None):
            continue
        add(row, SyncRun(mapping_id=row["mapping_id"], trigger=SyncRun.Trigger.CONTINUOUS,
                         entity_types=selected_keys(custom=row["custom"], chosen=row["entity_types"])))
        active.add(row["mapping_id"])

    to_send: list[tuple[int, str]] = []
    for alias in aliases():
        batch = new_runs.get(alias, [])
        try:
            if batch:
                # A "Sync now" pressed in the same instant wins; the constraint turns this insert into nothing.
                SyncRun.objects.using(alias).bulk_create(batch, batch_size=1000, ignore_conflicts=True)
                queued = list(SyncRun.objects.using(alias).filter(
                    mapping_id__in=[run.mapping_id for run in batch], status=SyncRun.Status.QUEUED, attempts=0)
                    .values_list("pk", flat=True))
                result.queued += queued
                to_send += [(pk, alias) for pk in queued]
                result.skipped += [run.mapping_id for run in batch if run.status == SyncRun.Status.SKIPPED]
            # Runs whose worker was lost, or whose message never reached one, are sent again; claiming decides.
            requeued = list(SyncRun.objects.using(alias).filter(
                Q(status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
                | Q(status=SyncRun.Status.QUEUED, queued_at__lt=now - REQUEUE_AFTER)
            ).values_list("pk", flat=True))
        except (OperationalError, InterfaceError) as exc:
            logger.warning("sync dispatch: region %s does not answer (%s); its pairs wait for the next dispatch",
                           alias, exc)
            continue
        result.requeued += requeued
        to_send += [(pk, alias) for pk in requeued]
    result.alerted = _alert_stale(now)
    if to_send:
        transaction.on_commit(lambda: _enqueue(to_send), using=CONTROL)
    return result


def _last_successes() -> dict[int, datetime]:
    """mapping id -> when its last successful run finished, from every region's runs."""
    found: dict[int, datetime] = {}
    for alias in aliases():
        try:
            rows = (SyncRun.objects.using(alias).filter(status=SyncRun.Status.SUCCEEDED).order_by()
                    .values("mapping_id").annotate(last=Max("finished_at")).values_list("mapping_id", "last"))
            found.update(rows)
        except (OperationalError, InterfaceError):
            continue
    return found


def _alert_stale(now: datetime) -> list[int]:
    """Emails once per episode when the last successful run is older than the interval plus two hours. The runs
    are in the regions and the configurations in the control plane: the ages are compared here, on plain values,
    and only the configurations to alert are loaded."""
    last_success = _last_successes()
    candidates = []
    rows = SyncConfiguration.objects.filter(enabled=True, stale_alert_sent_at__isnull=True).values_list(
        "pk", "mapping_id", "frequency", "anchor_at")
    for pk, mapping_id, frequency, anchor_at in rows.iterator(chunk_size=5000):
        since = last_success.get(mapping_id) or anchor_at
        if since is not None and since < now - INTERVALS[frequency] - STALE_GRACE:
            candidates.append(pk)
    alerted = []
    for configuration in SyncConfiguration.objects.filter(pk__in=candidates).select_related("mapping__primary"):
        if SyncConfiguration.objects.filter(pk=configuration.pk, stale_alert_sent_at__isnull=True) \
                .update(stale_alert_sent_at=now):
            alerted.append(configuration.pk)
            primary = configuration.mapping.primary
            transaction.on_commit(lambda p=primary, c=configuration: _notify(p, "stale", configuration=c),
                                  using=CONTROL)
    return alerted


def sync_note_change(*, tenant_id) -> None:
    """A primary's configuration changed: a continuous sync picks it up within a minute. One cheap UPDATE
    that matches nothing once a change is already waiting."""
    SyncConfiguration.objects.filter(
        mapping__primary_id=tenant_id, enabled=True, frequency=Frequency.CONTINUOUS,
        changes_pending_since__isnull=True,
    ).update(changes_pending_since=timezone.now())


# --- email -----------------------------------------------------------------------------------------------


def bcp_administrators(tenant: Tenant):
    """Active users of the tenant whose role holds BCP Configurations: Edit, and who have an email address."""
    groups = TenantGroupObjectPermission.objects.filter(
        content_object=tenant, permission__codename=CHANGE_BCP_CONFIGURATIONS,
        permission__content_type__app_label="tenants").values("group_id")
    return User.objects.filter(tenant=tenant, is_active=True, role__group_id__in=groups).exclude(email="")


def _notify(tenant: Tenant, kind: str, *, run: SyncRun | None = None, configuration=None) -> None:
    from .messages import run_error_lines

    for user in bcp_administrators(tenant):
        with translation.override(user.language):
            if kind == "failed":
                subject = _("BCP sync failed for %(tenant)s") % {"tenant": tenant}
                lines = [_("The sync from %(tenant)s to its BCP tenant failed at %(time)s.")
                         % {"tenant": tenant, "time": when_text(run.finished_at)}]
                lines += run_error_lines(run)[:10]
                lines.append(_("Open Admin → Sync Configuration to see the whole run and start it again."))
            else:
                subject = _("No successful BCP sync for %(tenant)s") % {"tenant": tenant}
                lines = [_("%(tenant)s has not been synced to its BCP tenant successfully for longer than its "
                           "interval (%(interval)s) plus two hours. Changes made since then would be missing after "
                           "a switch.") % {"tenant": tenant, "interval": configuration.get_frequency_display()},
                         _("Open Admin → Sync Configuration to see why, and start a sync.")]
            send_mail(subject, "\n\n".join(str(line) for line in lines), settings.DEFAULT_FROM_EMAIL, [user.email],
                      fail_silently=True)
