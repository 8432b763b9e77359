"""Every write of the sync: its configuration, its runs and the dispatcher that starts them.

Services take who acts as an `Actor` (a person, or the system for scheduled work); only views build
one from a request. Tasks take ids and call these.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

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
from .messages import region_down_now
from .models import INTERVALS, CarryBack, Correlation, Fence, Frequency, SyncConfiguration, SyncRun
from .selectors import region_down

logger = logging.getLogger(__name__)

# The Celery task that runs one sync run (tasks.run_sync).
RUN_TASK = "sync.run"
# The Celery task that starts a continuous run once a pair's changes have settled (tasks.run_continuous).
CONTINUOUS_TASK = "sync.continuous"
# A running run whose worker has written no progress for this long has lost its worker.
STALE_AFTER = timedelta(seconds=120)
# A queued run no worker has taken for this long is sent again (its message may be lost).
REQUEUE_AFTER = timedelta(seconds=90)
# Continuous mode starts a run once no change has come for CONTINUOUS_SETTLE, and at the latest CONTINUOUS_CAP after
# the first change: a burst of changes makes a few runs, one change is copied within seconds.
CONTINUOUS_SETTLE = timedelta(seconds=1)
CONTINUOUS_CAP = timedelta(seconds=5)
# A burst moves changes_last_at on at most this often (one UPDATE per pair in this time, not one per change).
CONTINUOUS_NOTE_EVERY = timedelta(milliseconds=200)
# Changes still waiting this long after the first were not started by their own task (the broker was down, or the
# pair was paused or backing off; or the queue is long): the dispatcher starts them.
CONTINUOUS_LOST_AFTER = timedelta(seconds=30)
# A message that started no run this long after it was sent is taken for lost (a broker that lost it, a worker that
# died with it): the dispatcher starts its run.
CONTINUOUS_MESSAGE_LOST_AFTER = timedelta(minutes=10)
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
    if name == NEXT_TASK:
        region = (kwargs or {}).get("region") or (args[0] if args else None)
        return {"queue": queue_for(region)} if region else None
    if name in (RUN_TASK, CONTINUOUS_TASK):
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
    configuration.changes_pending_since = configuration.changes_last_at = configuration.changes_asked_at = None
    configuration.save()
    SyncRun.objects.filter(mapping_id=configuration.mapping_id, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.SKIPPED, finished_at=timezone.now(), skip_reason="disabled")
    audit_record(action="sync.disable", by=actor, tenant=configuration.mapping.primary, obj=configuration)
    return configuration


# --- runs ---------------------------------------------------------------------------------------------------


def _send(messages: list[tuple[str, tuple]]) -> None:
    """Sends (task name, args) messages, args starting with the run's id or ending with the backup's region, so
    route_task puts each on its region's queue. By the task's name (tasks.py imports this module, not the other
    way round), with one producer for the batch."""
    with current_app.producer_or_acquire() as producer:
        for name, args in messages:
            current_app.send_task(name, args, producer=producer)


def _enqueue(runs: list[tuple[int, str]]) -> None:
    """Sends (run id, backup's region) pairs to their region's queue (sync.run)."""
    _send([(RUN_TASK, (run_id, region)) for run_id, region in runs])


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
    if trigger == SyncRun.Trigger.MANUAL and (down := region_down(mapping=mapping)) is not None:
        # Refused up front: a run now would only fail, and nothing is queued.
        raise SyncError(region_down_now(down))
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
              "heartbeat_at", "checked")
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
                stale_alert_sent_at=None, retry_after=None, unavailable_runs=0, last_succeeded_at=run.finished_at)
        elif region_down:
            _back_off(run.mapping_id)
    if status == SyncRun.Status.FAILED:
        _notify(run.mapping.primary, "failed", run=run)
    _follow_up(run)
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


# PostgreSQL: every due configuration claimed and moved on to its next slot in one statement. The inner SELECT
# skips rows another dispatcher holds; a row it has moved on no longer matches. The next slot is the first time
# after now on the anchor's time of day stepped by the interval (next_slot(), in SQL). Returns what a run needs,
# with the backup's region.
_CLAIM_DUE = """
WITH claimed AS (
    UPDATE sync_syncconfiguration c
    SET next_run_at = CASE WHEN %(now)s < c.anchor_at THEN c.anchor_at ELSE c.anchor_at + make_interval(
        secs => (floor(extract(epoch FROM (%(now)s - c.anchor_at)) / s.seconds) + 1) * s.seconds) END
    FROM (SELECT * FROM jsonb_each_text(%(intervals)s::jsonb)) AS s0(frequency, seconds_text),
         LATERAL (SELECT s0.seconds_text::double precision AS seconds) AS s
    WHERE c.frequency = s0.frequency AND c.id IN (
        SELECT id FROM sync_syncconfiguration
        WHERE enabled AND next_run_at <= %(now)s AND (retry_after IS NULL OR retry_after <= %(now)s)
        FOR UPDATE SKIP LOCKED)
    RETURNING c.id, c.mapping_id, c.custom, c.entity_types
)
SELECT claimed.mapping_id, claimed.custom, claimed.entity_types, m.active_side, r.code
FROM claimed
JOIN tenants_bcpmapping m ON m.id = claimed.mapping_id
JOIN tenants_tenant t ON t.id = m.secondary_id
JOIN tenants_region r ON r.id = t.region_id
"""
# What a claimed configuration says, in the order of _CLAIM_DUE's columns.
_CLAIMED = ("mapping_id", "custom", "entity_types", "mapping__active_side", "region")
_FIELDS = ("pk", "mapping_id", "anchor_at", "next_run_at", "frequency", "custom", "entity_types",
           "mapping__active_side", "mapping__secondary__region__code")
# The dispatcher starts a region's new runs with at most this many chains (sync.next): each takes the oldest
# queued run of the region, runs it and sends itself again while queued runs remain. So a dispatch that queues
# ten thousand runs sends a few dozen messages, and as many workers as there are chains share the work.
DISPATCH_CHAINS = 32
# The task of a chain (tasks.run_next).
NEXT_TASK = "sync.next"


def _claim_due(now: datetime):
    """The due configurations this dispatcher claims, each moved on to its next slot, as dicts of _CLAIMED.
    PostgreSQL: one statement (_CLAIM_DUE). SQLite: under the write lock, a read and one executemany. A pair in
    its back-off (its last run found a region down) is not due until the back-off ends."""
    if connections[CONTROL].vendor == "postgresql":
        intervals = json.dumps({key: value.total_seconds() for key, value in INTERVALS.items()})
        with connections[CONTROL].cursor() as cursor:
            cursor.execute(_CLAIM_DUE, {"now": now, "intervals": intervals})
            for row in cursor.fetchall():
                claimed = dict(zip(_CLAIMED, row, strict=True))
                if isinstance(claimed["entity_types"], str):
                    claimed["entity_types"] = json.loads(claimed["entity_types"])
                yield claimed
        return
    # SQLite has one writer at a time: an UPDATE first takes the write lock for the rest of this transaction (the
    # dispatch's), so no other dispatcher reads these rows before they are moved on; then one executemany.
    table = SyncConfiguration._meta.db_table
    connection = connections[CONTROL]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET id = id WHERE 0")  # noqa: S608 - the model's table
    due = SyncConfiguration.objects.filter(enabled=True, next_run_at__lte=now).exclude(retry_after__gt=now)
    rows = list(due.values(*_FIELDS))
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET next_run_at = %s WHERE id = %s", [  # noqa: S608
            (connection.ops.adapt_datetimefield_value(
                next_slot(anchor=row["anchor_at"], interval=INTERVALS[row["frequency"]], after=now)), row["pk"])
            for row in rows])
    for row in rows:
        yield {**row, "region": row["mapping__secondary__region__code"]}


def _active_mappings() -> set[int]:
    """The pairs with a run queued or going, from every region that answers. A region that does not answer adds
    none: its pairs' new runs cannot be saved there anyway (sync_dispatch gives their slots back)."""
    active = set()
    for alias in aliases():
        try:
            active.update(SyncRun.objects.using(alias).filter(status__in=SyncRun.ACTIVE)
                          .values_list("mapping_id", flat=True))
        except (OperationalError, InterfaceError) as exc:
            logger.warning("sync dispatch: region %s does not answer (%s)", alias, exc)
    return active


def _give_back(batch: list["NewRun"], now: datetime) -> None:
    """Claimed runs that could not be saved in their region (it does not answer): their configurations are due
    again at once, and a continuous pair's changes pending again, so the first dispatch after the region answers
    runs them, instead of a missed slot waiting for the next (a day, for a daily sync)."""
    scheduled = [run.mapping_id for run in batch if run.trigger != SyncRun.Trigger.CONTINUOUS]
    continuous = [run.mapping_id for run in batch if run.trigger == SyncRun.Trigger.CONTINUOUS]
    SyncConfiguration.objects.filter(mapping_id__in=scheduled).update(next_run_at=now)
    SyncConfiguration.objects.filter(mapping_id__in=continuous).update(
        changes_pending_since=now - CONTINUOUS_LOST_AFTER, changes_last_at=now, changes_asked_at=None)


@transaction.atomic(using=CONTROL)
def sync_dispatch(*, now: datetime | None = None) -> Dispatch:
    """Claims what is due and queues one run per mapping, each in its backup's region, then starts each region's
    new runs with a few chains (DISPATCH_CHAINS). A slot missed while beat was down is claimed once, and the next
    slot is computed from now, so two days without beat make one catch-up run, not a backlog. A region that does
    not answer costs its own pairs their runs, not the others'."""
    now = now or timezone.now()
    result = Dispatch()
    active = _active_mappings()
    new_runs: dict[str, list[NewRun]] = {}

    def add(row, trigger, status=SyncRun.Status.QUEUED, skip_reason=""):
        types = [] if status == SyncRun.Status.SKIPPED else selected_keys(custom=row["custom"],
                                                                          chosen=row["entity_types"])
        new_runs.setdefault(row["region"], []).append(
            NewRun(row["mapping_id"], trigger, status, skip_reason, types, now if skip_reason else None))

    for row in _claim_due(now):
        if row["mapping_id"] in active:
            continue  # the run going now covers this slot
        if row["mapping__active_side"] == BcpMapping.Side.SECONDARY:
            add(row, SyncRun.Trigger.SCHEDULE, status=SyncRun.Status.SKIPPED, skip_reason="bcp_active")
            continue
        add(row, SyncRun.Trigger.SCHEDULE)
        active.add(row["mapping_id"])

    # Continuous changes whose own task did not start them (sync_continuous_start): the broker was down, or the pair
    # was paused or backing off when it came, or the message is lost. One still on its way behind a long queue is
    # left to come: a run made here too would be a second run for the same changes, and a longer queue.
    pending = SyncConfiguration.objects.filter(
        Q(changes_asked_at__isnull=True) | Q(changes_asked_at__lte=now - CONTINUOUS_MESSAGE_LOST_AFTER),
        enabled=True, frequency=Frequency.CONTINUOUS, changes_pending_since__lte=now - CONTINUOUS_LOST_AFTER,
    ).exclude(retry_after__gt=now).values(*_FIELDS, "changes_pending_since")
    for row in pending.iterator(chunk_size=2000):
        if row["mapping_id"] in active or row["mapping__active_side"] == BcpMapping.Side.SECONDARY:
            continue  # stays pending: the run after the current one (or after switching back) takes it
        if not SyncConfiguration.objects.filter(pk=row["pk"], changes_pending_since=row["changes_pending_since"]) \
                .update(changes_pending_since=None, changes_last_at=None, changes_asked_at=None):
            continue
        add({**row, "region": row["mapping__secondary__region__code"]}, SyncRun.Trigger.CONTINUOUS)
        active.add(row["mapping_id"])

    to_send: list[tuple[str, tuple]] = []
    for alias in aliases():
        batch = new_runs.get(alias, [])
        saved = False
        try:
            if batch:
                # Runs already waiting have their chains (each goes on while runs wait): only as many new ones as
                # bring them to DISPATCH_CHAINS, so a queue that backs up under load does not grow chains.
                waiting = SyncRun.objects.using(alias).filter(status=SyncRun.Status.QUEUED).count()
                queued = _insert_runs(alias, batch, now)
                saved = True
                result.queued += queued
                to_send += [(NEXT_TASK, (alias,))] * min(len(queued), max(DISPATCH_CHAINS - waiting, 0))
                result.skipped += [run.mapping_id for run in batch if run.status == SyncRun.Status.SKIPPED]
            # Runs whose worker was lost, and the oldest of those whose message never reached one (a few per
            # dispatch: a long queue behind busy workers is not lost), are sent again; claiming decides.
            lost = list(SyncRun.objects.using(alias).filter(
                status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER).values_list("pk", flat=True))
            lost += SyncRun.objects.using(alias).filter(
                status=SyncRun.Status.QUEUED, queued_at__lt=now - REQUEUE_AFTER,
            ).order_by("queued_at", "pk").values_list("pk", flat=True)[:DISPATCH_CHAINS]
        except (OperationalError, InterfaceError) as exc:
            logger.warning("sync dispatch: region %s does not answer (%s); its pairs wait for the next dispatch",
                           alias, exc)
            if not saved:
                _give_back([run for run in batch if run.status == SyncRun.Status.QUEUED], now)
            continue
        result.requeued += lost
        to_send += [(RUN_TASK, (pk, alias)) for pk in lost]
    result.alerted = _alert_stale(now)
    if to_send:
        transaction.on_commit(lambda: _send(to_send), using=CONTROL)
    return result


class NewRun(NamedTuple):
    """A run the dispatcher saves (_insert_runs)."""
    mapping_id: int
    trigger: str
    status: str
    skip_reason: str
    entity_types: list[str]
    finished_at: datetime | None


def _insert_runs(alias: str, runs: list[NewRun], now: datetime) -> list[int]:
    """Saves the dispatcher's new runs in region `alias`; returns the ids of the queued ones. A "Sync now" pressed
    in the same instant wins: the one-active-run constraint turns that pair's insert into nothing. PostgreSQL: one
    INSERT … SELECT FROM unnest(mapping ids) … ON CONFLICT DO NOTHING per kind of run (they differ only by
    pair, mostly); SQLite: one executemany, then the queued ones (saved at `now`) read back."""
    connection = connections[alias]
    q = connection.ops.quote_name
    columns = ", ".join(q(name) for name in (
        "mapping_id", "status", "trigger", "full", "entity_types", "queued_at", "finished_at", "attempts", "counts",
        "current_type", "errors", "skip_reason", "checked"))
    if connection.vendor != "postgresql":
        adapt = connection.ops.adapt_datetimefield_value
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {q(SyncRun._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
                "VALUES (%s, %s, %s, 0, %s, %s, %s, 0, '{}', '', '[]', %s, 0) ON CONFLICT DO NOTHING",
                [(run.mapping_id, run.status, run.trigger, json.dumps(run.entity_types), adapt(now),
                  adapt(run.finished_at), run.skip_reason) for run in runs])
        return list(SyncRun.objects.using(alias).filter(queued_at=now, status=SyncRun.Status.QUEUED, attempts=0)
                    .values_list("pk", flat=True))
    kinds: dict[tuple, list[int]] = {}
    for run in runs:
        key = (run.status, run.trigger, json.dumps(run.entity_types), run.skip_reason, run.finished_at)
        kinds.setdefault(key, []).append(run.mapping_id)
    sql = (f"INSERT INTO {q(SyncRun._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
           "SELECT m, %s, %s, FALSE, %s::jsonb, %s, %s, 0, '{}'::jsonb, '', '[]'::jsonb, %s, FALSE "
           "FROM unnest(%s::bigint[]) AS m ON CONFLICT DO NOTHING RETURNING id, status")
    queued = []
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        for (status, trigger, types, skip_reason, finished_at), mapping_ids in kinds.items():
            cursor.execute(sql, [status, trigger, types, now, finished_at, skip_reason, mapping_ids])
            queued += [pk for pk, saved in cursor.fetchall() if saved == SyncRun.Status.QUEUED]
    return queued


def sync_run_next(*, region: str) -> SyncRun | None:
    """A chain's step (tasks.run_next): runs the oldest queued run of the region, then sends the chain on while
    queued runs remain. A run another worker claimed first is passed over."""
    runs = SyncRun.objects.using(region).filter(status=SyncRun.Status.QUEUED).order_by("queued_at", "pk")
    for run_id in runs.values_list("pk", flat=True)[:DISPATCH_CHAINS]:
        run = sync_run_execute(run_id=run_id, region=region)
        if run is not None:
            if runs.exists():
                _send([(NEXT_TASK, (region,))])
            return run
    return None


def _last_successes(mapping_ids: list[int]) -> dict[int, datetime]:
    """mapping id -> when its last successful run finished, from every region's runs (for configurations that
    have not recorded it themselves: those last run before last_succeeded_at existed)."""
    found: dict[int, datetime] = {}
    for alias in aliases() if mapping_ids else ():
        try:
            runs = SyncRun.objects.using(alias).filter(status=SyncRun.Status.SUCCEEDED, mapping_id__in=mapping_ids)
            found.update(runs.order_by().values("mapping_id").annotate(last=Max("finished_at"))
                         .values_list("mapping_id", "last"))
        except (OperationalError, InterfaceError):
            continue
    return found


def _alert_stale(now: datetime) -> list[int]:
    """Emails once per episode when the last successful run is older than the interval plus two hours. Each
    configuration records its last success (_finish), so one query in the control plane finds them; one that has
    none recorded asks the regions' runs."""
    overdue = Q()
    for frequency, interval in INTERVALS.items():
        cutoff = now - interval - STALE_GRACE
        overdue |= Q(frequency=frequency) & (Q(last_succeeded_at__lt=cutoff)
                                             | Q(last_succeeded_at__isnull=True, anchor_at__lt=cutoff))
    rows = list(SyncConfiguration.objects.filter(overdue, enabled=True, stale_alert_sent_at__isnull=True)
                .values_list("pk", "mapping_id", "frequency", "last_succeeded_at"))
    unrecorded = _last_successes([mapping_id for _pk, mapping_id, _f, last in rows if last is None])
    candidates = [pk for pk, mapping_id, frequency, _last in rows
                  if unrecorded.get(mapping_id) is None
                  or unrecorded[mapping_id] < now - INTERVALS[frequency] - STALE_GRACE]
    alerted = []
    for configuration in SyncConfiguration.objects.filter(pk__in=candidates).select_related("mapping__primary"):
        if SyncConfiguration.objects.filter(pk=configuration.pk, stale_alert_sent_at__isnull=True) \
                .update(stale_alert_sent_at=now):
            alerted.append(configuration.pk)
            primary = configuration.mapping.primary
            transaction.on_commit(lambda p=primary, c=configuration: _notify(p, "stale", configuration=c),
                                  using=CONTROL)
    return alerted


# --- continuous mode -------------------------------------------------------------------------------------


def sync_note_change(*, tenant_id, using: str) -> None:
    """A record of tenant `tenant_id` changed in database `using` (signals.py): once that transaction commits,
    a continuous sync of the tenant is marked as having changes waiting and, for the first change, its run is
    asked for. Noted once per tenant and transaction, however many records the transaction writes."""
    connection = connections[using]
    if connection.in_atomic_block:
        # Django replaces run_on_commit when a transaction or savepoint rolls back, dropping what it held: a note
        # made in the list that is still there is still to come.
        noted = connection.__dict__.get("_sync_noted")
        if noted is not None and noted[0] is connection.run_on_commit:
            if tenant_id in noted[1]:
                return
        else:
            noted = (connection.run_on_commit, set())
            connection._sync_noted = noted
        noted[1].add(tenant_id)
    transaction.on_commit(lambda: _note_committed_change(tenant_id), using=using)


def _note_committed_change(tenant_id) -> None:
    """After a change of the primary `tenant_id` committed: the first change since the pair's last run marks its
    configuration and sends the task that starts the run once the changes settle; a later one moves the time of
    the last change on (at most every CONTINUOUS_NOTE_EVERY). A tenant that does not sync continuously costs one
    read."""
    try:
        sync_note_changes(tenant_ids=[tenant_id])
    except (OperationalError, InterfaceError) as exc:  # the change itself is committed: never fail its request
        logger.warning("continuous sync: a change of tenant %s was not noted (%s); the hourly check copies it",
                       tenant_id, exc)


def sync_note_changes(*, tenant_ids) -> list[int]:
    """Marks the continuous configurations of these primaries as having changes waiting; returns the mapping ids
    whose run was asked for (a change after a quiet time). Called once a change has committed."""
    now = timezone.now()
    rows = SyncConfiguration.objects.filter(
        mapping__primary_id__in=list(tenant_ids), enabled=True, frequency=Frequency.CONTINUOUS,
    ).values_list("pk", "mapping_id", "mapping__secondary_id", "changes_pending_since", "changes_last_at")
    asked = []
    for pk, mapping_id, secondary_id, pending_since, last_at in rows:
        if pending_since is None and SyncConfiguration.objects.filter(pk=pk, changes_pending_since__isnull=True) \
                .update(changes_pending_since=now, changes_last_at=now, changes_asked_at=now):
            if not _ask_continuous(mapping_id, alias_for_tenant(secondary_id), countdown=CONTINUOUS_SETTLE):
                _not_asked(pk)
            asked.append(mapping_id)
        elif last_at is None or last_at <= now - CONTINUOUS_NOTE_EVERY:
            SyncConfiguration.objects.filter(pk=pk, changes_pending_since__isnull=False).update(changes_last_at=now)
    return asked


def sync_poll_changes() -> list[int]:
    """Beat's look at the change logs (every second, settings.CELERY_BEAT_SCHEDULE): a pair that syncs continuously,
    whose tenants have changes logged that no run has read, and that has no run going nor changes already marked,
    is marked and its run asked for, as a change seen by a signal would be. This is how a bulk QuerySet.update(),
    the CSV import or an operator's raw SQL reach the backup within seconds; changes a run is reading now are left
    to it (and what comes during it, to its follow-up). Returns the mapping ids whose run was asked for."""
    from .selectors import tenants_with_changes

    changed = set()
    for alias in (CONTROL, *aliases()):
        try:
            changed |= tenants_with_changes(alias)
        except (OperationalError, InterfaceError, RegionUnavailable) as exc:
            logger.info("continuous sync: the change log of %s was not read (%s)", alias, exc)
    if not changed:
        return []
    rows = list(SyncConfiguration.objects.filter(
        Q(mapping__primary_id__in=changed) | Q(mapping__secondary_id__in=changed), enabled=True,
        frequency=Frequency.CONTINUOUS, changes_pending_since__isnull=True,
    ).values_list("mapping_id", "mapping__primary_id", "mapping__secondary__region__code"))
    busy = set()
    for region in {region for _mapping, _primary, region in rows}:
        try:
            busy.update(SyncRun.objects.using(region).filter(
                mapping_id__in=[mapping for mapping, _p, where in rows if where == region],
                status__in=SyncRun.ACTIVE).values_list("mapping_id", flat=True))
        except (OperationalError, InterfaceError, RegionUnavailable):
            busy.update(mapping for mapping, _p, where in rows if where == region)
    return sync_note_changes(tenant_ids=[primary for mapping, primary, _r in rows if mapping not in busy])


def _ask_continuous(mapping_id: int, region: str, *, countdown: timedelta = timedelta(0)) -> bool:
    """Sends the task that starts the pair's continuous run, after `countdown`, to the backup's region's queue. A
    broker that does not answer leaves the changes marked (False: the caller says no message is out for them): the
    dispatcher starts them after CONTINUOUS_LOST_AFTER."""
    try:
        current_app.send_task(CONTINUOUS_TASK, (mapping_id, region), countdown=max(countdown.total_seconds(), 0))
    except BROKER_ERRORS as exc:
        logger.warning("continuous sync of pair %s: the task queue did not answer (%s: %s); the dispatcher starts "
                       "the run", mapping_id, type(exc).__name__, exc)
        return False
    return True


def _not_asked(configuration_id: int) -> None:
    """No message is on its way for the pair's waiting changes: the run's end or the dispatcher starts them."""
    SyncConfiguration.objects.filter(pk=configuration_id).update(changes_asked_at=None)


def sync_continuous_start(*, mapping_id: int, region: str) -> SyncRun | None:
    """The pair's changes have waited: once none has come for CONTINUOUS_SETTLE (at the latest CONTINUOUS_CAP after
    the first), claims them and runs the sync here, in this task. Sooner, it asks again for when they will have
    settled. A pair whose run is going now is left marked: that run's end asks for the follow-up (_finish). A
    paused pair (its BCP tenant active) or one backing off keeps its mark for the dispatcher."""
    now = timezone.now()
    row = SyncConfiguration.objects.filter(
        mapping_id=mapping_id, enabled=True, frequency=Frequency.CONTINUOUS, changes_pending_since__isnull=False,
    ).values("pk", "changes_pending_since", "changes_last_at", "retry_after", "custom", "entity_types",
             "mapping__active_side").first()
    if row is None:
        # Taken by another task or the dispatcher, or no longer continuous. The dispatcher's run (a mark that waited
        # CONTINUOUS_LOST_AFTER behind a long queue) may still wait for a chain: this task runs it now.
        return _run_queued(mapping_id, region)
    last_at = row["changes_last_at"] or row["changes_pending_since"]
    due = min(last_at + CONTINUOUS_SETTLE, row["changes_pending_since"] + CONTINUOUS_CAP)
    if due > now:
        if not _ask_continuous(mapping_id, region, countdown=due - now):
            _not_asked(row["pk"])
        return None
    if row["mapping__active_side"] == BcpMapping.Side.SECONDARY or (row["retry_after"] and row["retry_after"] > now):
        _not_asked(row["pk"])  # the dispatcher's, once the pair may run
        return None
    active = dict(SyncRun.objects.using(region).filter(mapping_id=mapping_id, status__in=SyncRun.ACTIVE)
                  .values_list("pk", "status"))
    if SyncRun.Status.RUNNING in active.values():
        _not_asked(row["pk"])  # its end asks for the follow-up
        return None
    if not SyncConfiguration.objects.filter(pk=row["pk"], changes_pending_since=row["changes_pending_since"]) \
            .update(changes_pending_since=None, changes_last_at=None, changes_asked_at=None):
        return None
    if active:
        # A run waits (a chain's, "Sync now"): it has not read the primary yet, so it copies these changes too. Run
        # it here rather than make another; if a worker took it meanwhile, its snapshot may predate these changes:
        # they are marked again, and its end asks for their run.
        run = _run_queued(mapping_id, region)
        if run is None:
            SyncConfiguration.objects.filter(pk=row["pk"], changes_pending_since__isnull=True).update(
                changes_pending_since=row["changes_pending_since"], changes_last_at=row["changes_last_at"],
                changes_asked_at=None)
        return run
    try:
        with transaction.atomic(using=region):
            run = SyncRun.objects.using(region).create(
                mapping_id=mapping_id, trigger=SyncRun.Trigger.CONTINUOUS,
                entity_types=selected_keys(custom=row["custom"], chosen=row["entity_types"]))
    except IntegrityError:
        return None  # a run was requested meanwhile ("Sync now"): it has not read the primary yet, so it copies these
    return sync_run_execute(run_id=run.pk, region=region)


def _run_queued(mapping_id: int, region: str) -> SyncRun | None:
    """Runs the pair's queued run here, if it has one that no worker took yet (claiming decides)."""
    queued = SyncRun.objects.using(region).filter(mapping_id=mapping_id, status=SyncRun.Status.QUEUED) \
        .order_by("queued_at", "pk").values_list("pk", flat=True).first()
    return sync_run_execute(run_id=queued, region=region) if queued is not None else None


def _follow_up(run: SyncRun) -> None:
    """A run has ended: changes noted while it went (its snapshot may predate them) get their run now."""
    waiting = SyncConfiguration.objects.filter(mapping_id=run.mapping_id, enabled=True, frequency=Frequency.CONTINUOUS,
                                               changes_pending_since__isnull=False, changes_asked_at__isnull=True)
    # Unless their own message is still on its way (it was sent when they came, during the run, and will come).
    if waiting.update(changes_asked_at=timezone.now()) and not _ask_continuous(run.mapping_id, run._state.db):
        waiting.model.objects.filter(mapping_id=run.mapping_id).update(changes_asked_at=None)


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
