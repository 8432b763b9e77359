"""Every write of the sync: its configuration, its runs and the dispatcher that starts them.

Services take who acts as an `Actor` (a person, or the system for scheduled work); only views build
one from a request. Tasks take ids and call these.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import Actor, audit_record
from bcp_project.celery import BROKER_ERRORS
from bcp_project.exceptions import ApplicationError
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS
from tenants.models import BcpMapping, Tenant, TenantGroupObjectPermission

from .engine import Engine, SyncCrash, SyncInterrupted, entity_keys_for
from .entities import ALL_KEYS, BY_KEY, missing_dependencies
from .models import INTERVALS, Frequency, SyncConfiguration, SyncRun

logger = logging.getLogger(__name__)

# A running run whose worker has written no progress for this long has lost its worker.
STALE_AFTER = timedelta(seconds=120)
# A queued run no worker has taken for this long is sent again (its message may be lost).
REQUEUE_AFTER = timedelta(seconds=90)
# Continuous mode waits this long after the first change, so that a burst of changes makes one run.
CONTINUOUS_SETTLE = timedelta(seconds=5)
# "No successful sync for too long" means older than the interval plus this.
STALE_GRACE = timedelta(hours=2)


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
    mapping = BcpMapping.objects.select_related("primary", "secondary").filter(primary=tenant).first()
    if mapping is None:
        raise SyncError(_("This tenant has no BCP tenant to sync to. Your account representative maps one in "
                          "Tenant Management first."))
    return mapping


def _lock(configuration: SyncConfiguration) -> SyncConfiguration:
    return SyncConfiguration.objects.select_for_update().select_related("mapping").get(pk=configuration.pk)


@transaction.atomic
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


@transaction.atomic
def sync_settings_save(*, configuration: SyncConfiguration, frequency: str, custom: bool,
                       entity_types: list[str], actor: Actor) -> SyncConfiguration:
    configuration = _lock(configuration)
    if not configuration.enabled:
        raise SyncError(_("Enable Sync first; then choose its settings."))
    if frequency not in Frequency.values:
        raise SyncError(_("Choose how often to sync from the list."), field="frequency")
    chosen = [key for key in ALL_KEYS if key in set(entity_types)] if custom else []
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


@transaction.atomic
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


def _enqueue(run_ids: list[int]) -> None:
    from .tasks import run_sync

    # One producer for the whole batch: a dispatch may queue a thousand runs at once.
    with run_sync.app.producer_or_acquire() as producer:
        for run_id in run_ids:
            run_sync.apply_async((run_id,), producer=producer)


def _enqueue_after_commit(run: SyncRun) -> None:
    """Hands the run to the task queue once the transaction has committed. A queue that does not answer then
    leaves the run saved and queued (run.waiting_for_queue says so to the caller): the dispatcher sends queued runs
    again after REQUEUE_AFTER, so it starts when the queue is back."""

    def send():
        try:
            _enqueue([run.pk])
        except BROKER_ERRORS as exc:
            logger.warning("sync run %s is queued, but the task queue did not answer (%s: %s); the dispatcher sends "
                           "it again when the queue is back", run.pk, type(exc).__name__, exc)
            run.waiting_for_queue = True

    transaction.on_commit(send)


def _queue(*, mapping: BcpMapping, configuration: SyncConfiguration | None, trigger: str, actor: Actor,
           full: bool = False, enqueue: bool = True) -> SyncRun:
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(mapping=mapping, trigger=trigger, requested_by=actor.user, full=full,
                                         entity_types=entity_keys_for(configuration))
    except IntegrityError:
        waiting = SyncRun.objects.filter(mapping=mapping, status=SyncRun.Status.QUEUED).exists()
        if waiting:  # saved, not started: perhaps the task queue was down when it was requested
            raise SyncError(_("A sync is already waiting to start for this tenant: it starts as soon as a worker "
                              "takes it (if the task queue was down, once it is back). Its progress is shown on "
                              "this page.")) from None
        raise SyncError(_("A sync is already running for this tenant. Wait for it to finish; its progress is "
                          "shown on this page.")) from None
    if enqueue:
        _enqueue_after_commit(run)
    return run


@transaction.atomic
def sync_run_request(*, tenant: Tenant, actor: Actor, trigger: str = SyncRun.Trigger.MANUAL, full: bool = False,
                     enqueue: bool = True) -> SyncRun:
    """Sync now. With enqueue=False the caller runs it itself (the bcp_sync command)."""
    mapping = _mapping_of_primary(tenant)
    BcpMapping.objects.select_for_update().filter(pk=mapping.pk).values_list("pk").first()
    mapping.refresh_from_db(fields=["active_side"])
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


def sync_run_execute(*, run_id: int, on_progress=None) -> SyncRun | None:
    """Runs a queued run, or takes over one whose worker was lost. Returns None when another worker has it."""
    now = timezone.now()
    claimed = SyncRun.objects.filter(pk=run_id).filter(
        Q(status=SyncRun.Status.QUEUED) | Q(status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    ).update(status=SyncRun.Status.RUNNING, started_at=Coalesce(F("started_at"), now), heartbeat_at=now,
             attempts=F("attempts") + 1)
    if not claimed:
        return None
    run = SyncRun.objects.select_related("mapping__primary", "mapping__secondary", "requested_by").get(pk=run_id)
    if run.mapping.active_side == BcpMapping.Side.SECONDARY:
        return _finish(run, status=SyncRun.Status.SKIPPED, skip_reason="bcp_active")
    engine = Engine(run, entity_keys=run.entity_types or ALL_KEYS, full=run.full, on_progress=on_progress)
    try:
        engine.execute()
    except SyncCrash:
        raise
    except SyncInterrupted:
        run.counts = {key: counts.as_dict() for key, counts in engine.counts.items()}
        return _finish(run, status=SyncRun.Status.SKIPPED, skip_reason="switched")
    except Exception as exc:  # a bug or a lost database: the run says so, the next run starts over
        logger.exception("sync run %s stopped", run.pk)
        engine.errors.append({"code": "error", "type": "", "detail": f"{type(exc).__name__}: {exc}"[:300]})
    run.counts = {key: counts.as_dict() for key, counts in engine.counts.items()}
    status = SyncRun.Status.FAILED if engine.errors else SyncRun.Status.SUCCEEDED
    return _finish(run, status=status, errors=engine.errors)


def _finish(run: SyncRun, *, status: str, errors=(), skip_reason: str = "") -> SyncRun:
    with transaction.atomic():
        run.status = status
        run.errors = list(errors)
        run.skip_reason = skip_reason
        run.finished_at = timezone.now()
        run.current_type = ""
        run.save(update_fields=["status", "errors", "skip_reason", "finished_at", "current_type", "counts"])
        actor = Actor(user=run.requested_by) if run.requested_by else Actor.system()
        audit_record(action="sync.run", by=actor, tenant=run.mapping.primary, obj=run,
                     changes={"status": status, "trigger": run.trigger, "totals": run.totals,
                              "errors": len(run.errors), "skip_reason": skip_reason})
        if status == SyncRun.Status.SUCCEEDED:
            SyncConfiguration.objects.filter(mapping_id=run.mapping_id).update(stale_alert_sent_at=None)
    if status == SyncRun.Status.FAILED:
        _notify(run.mapping.primary, "failed", run=run)
    return run


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
    UPDATE per chunk. Elsewhere: a conditional UPDATE per row, which SQLite runs one writer at a time."""
    due = SyncConfiguration.objects.filter(enabled=True, next_run_at__lte=now)
    if connection.vendor != "postgresql":
        for row in due.values(*fields).iterator(chunk_size=2000):
            if _claim_slot(row, now):
                yield row
        return
    rows = list(due.select_for_update(skip_locked=True, of=("self",)).values(*fields))
    claimed = [SyncConfiguration(pk=row["pk"], next_run_at=next_slot(
        anchor=row["anchor_at"], interval=INTERVALS[row["frequency"]], after=now)) for row in rows]
    SyncConfiguration.objects.bulk_update(claimed, ["next_run_at"], batch_size=1000)
    yield from rows


@transaction.atomic
def sync_dispatch(*, now: datetime | None = None) -> Dispatch:
    """Claims what is due and queues one run per mapping. A slot missed while beat was down is claimed once,
    and the next slot is computed from now, so two days without beat make one catch-up run, not a backlog."""
    now = now or timezone.now()
    result = Dispatch()
    active = set(SyncRun.objects.filter(status__in=SyncRun.ACTIVE).values_list("mapping_id", flat=True))
    fields = ("pk", "mapping_id", "anchor_at", "next_run_at", "frequency", "custom", "entity_types",
              "mapping__active_side")
    new_runs = []
    for row in _claim_due(fields, now):
        if row["mapping_id"] in active:
            continue  # the run going now covers this slot
        if row["mapping__active_side"] == BcpMapping.Side.SECONDARY:
            new_runs.append(SyncRun(mapping_id=row["mapping_id"], trigger=SyncRun.Trigger.SCHEDULE,
                                    status=SyncRun.Status.SKIPPED, skip_reason="bcp_active", finished_at=now))
            continue
        new_runs.append(SyncRun(mapping_id=row["mapping_id"], trigger=SyncRun.Trigger.SCHEDULE,
                                entity_types=_types(row)))
        active.add(row["mapping_id"])

    pending = SyncConfiguration.objects.filter(enabled=True, frequency=Frequency.CONTINUOUS,
                                               changes_pending_since__lte=now - CONTINUOUS_SETTLE).values(
        *fields, "changes_pending_since")
    for row in pending.iterator(chunk_size=2000):
        if row["mapping_id"] in active or row["mapping__active_side"] == BcpMapping.Side.SECONDARY:
            continue  # stays pending: the run after the current one (or after switching back) takes it
        if not SyncConfiguration.objects.filter(pk=row["pk"], changes_pending_since=row["changes_pending_since"]) \
                .update(changes_pending_since=None):
            continue
        new_runs.append(SyncRun(mapping_id=row["mapping_id"], trigger=SyncRun.Trigger.CONTINUOUS,
                                entity_types=_types(row)))
        active.add(row["mapping_id"])

    # A "Sync now" pressed in the same instant wins; the constraint turns this insert into nothing.
    SyncRun.objects.bulk_create(new_runs, batch_size=1000, ignore_conflicts=True)
    mapping_ids = [run.mapping_id for run in new_runs]
    result.queued = list(SyncRun.objects.filter(mapping_id__in=mapping_ids, status=SyncRun.Status.QUEUED,
                                                attempts=0).values_list("pk", flat=True))
    result.skipped = [run.mapping_id for run in new_runs if run.status == SyncRun.Status.SKIPPED]

    # Runs whose worker was lost, or whose message never reached one, are sent again; claiming decides.
    result.requeued = list(SyncRun.objects.filter(
        Q(status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        | Q(status=SyncRun.Status.QUEUED, queued_at__lt=now - REQUEUE_AFTER)
    ).values_list("pk", flat=True))
    result.alerted = _alert_stale(now)
    runs = result.queued + result.requeued
    if runs:
        transaction.on_commit(lambda: _enqueue(runs))
    return result


def _types(row: dict) -> list[str]:
    if row["custom"]:
        return [key for key in ALL_KEYS if key in set(row["entity_types"])]
    return list(ALL_KEYS)


def _alert_stale(now: datetime) -> list[int]:
    """Emails once per episode when the last successful run is older than the interval plus two hours."""
    last_success = SyncRun.objects.filter(mapping_id=OuterRef("mapping_id"), status=SyncRun.Status.SUCCEEDED) \
        .order_by().values("mapping_id").annotate(last=Max("finished_at")).values("last")
    alerted = []
    for frequency, interval in INTERVALS.items():
        rows = (SyncConfiguration.objects.filter(enabled=True, frequency=frequency, stale_alert_sent_at__isnull=True)
                .annotate(last_success=Subquery(last_success))
                .filter(Q(last_success__lt=now - interval - STALE_GRACE)
                        | Q(last_success__isnull=True, anchor_at__lt=now - interval - STALE_GRACE))
                .select_related("mapping__primary"))
        for configuration in rows:
            if SyncConfiguration.objects.filter(pk=configuration.pk, stale_alert_sent_at__isnull=True) \
                    .update(stale_alert_sent_at=now):
                alerted.append(configuration.pk)
                primary = configuration.mapping.primary
                transaction.on_commit(lambda p=primary, c=configuration: _notify(p, "stale", configuration=c))
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
                lines = [_("The sync from %(tenant)s to its BCP tenant failed at %(time)s UTC.")
                         % {"tenant": tenant, "time": f"{run.finished_at:%Y-%m-%d %H:%M}"}]
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
