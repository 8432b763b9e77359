"""The sync's own data: how a mapping syncs, each run, and the link from a primary record to its copy."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bcp_project.regions.querysets import RegionManager


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    EVERY_12_HOURS = "12h", _("Every 12 hours")
    EVERY_6_HOURS = "6h", _("Every 6 hours")
    HOURLY = "1h", _("Every hour")
    CONTINUOUS = "continuous", _("Continuously (within a minute of a change)")


INTERVALS = {
    Frequency.DAILY: timedelta(days=1),
    Frequency.EVERY_12_HOURS: timedelta(hours=12),
    Frequency.EVERY_6_HOURS: timedelta(hours=6),
    Frequency.HOURLY: timedelta(hours=1),
    # Continuous runs follow the changes; this is only how often a quiet tenant is checked anyway.
    Frequency.CONTINUOUS: timedelta(hours=1),
}


class SyncConfiguration(models.Model):
    """How one BCP mapping syncs. Scheduled runs fall on the time of day the sync was enabled
    (`anchor_at`), then every interval; `next_run_at` is the slot the dispatcher claims next."""

    mapping = models.OneToOneField("tenants.BcpMapping", on_delete=models.CASCADE, related_name="sync_configuration",
                                   verbose_name=_("BCP mapping"))
    enabled = models.BooleanField(_("sync enabled"), default=False)
    frequency = models.CharField(_("how often"), max_length=12, choices=Frequency.choices, default=Frequency.DAILY)
    custom = models.BooleanField(_("custom selection"), default=False)
    # With `custom`, the entity types that sync (keys of sync.engine.registry); otherwise all of them.
    entity_types = models.JSONField(_("entity types"), default=list, blank=True)
    anchor_at = models.DateTimeField(_("enabled at"), null=True, blank=True)
    enabled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("enabled by"))
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    # Continuous mode: set by the first change after a run, cleared when a run is queued.
    changes_pending_since = models.DateTimeField(_("changes waiting since"), null=True, blank=True)
    # Continuous mode: the latest change noted while changes wait (at most a fraction of a second old during a
    # burst): the run starts once no change has come for a second, or five seconds after the first one.
    changes_last_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Continuous mode: when the message that starts the waiting changes' run was sent, while it is on its way (None:
    # no message is out for them, so the run's end or the dispatcher starts them). Behind a long queue a message
    # takes long to come; the dispatcher then leaves it be, instead of making a second run for the same changes.
    changes_asked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The last "no successful sync for too long" email, so that it is sent once per episode.
    stale_alert_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the last successful run finished (its run, in the backup's region, says so too): the dispatcher's check
    # for "no successful sync for too long" reads it here, without reading every region's runs.
    last_succeeded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Back-off: a run that found a region's database not answering sets these, and the dispatcher starts no run
    # for the pair before retry_after; a successful run clears them.
    retry_after = models.DateTimeField(null=True, blank=True, editable=False)
    unavailable_runs = models.PositiveSmallIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sync configuration")
        verbose_name_plural = _("sync configurations")
        indexes = [
            models.Index(fields=["next_run_at"], condition=Q(enabled=True), name="sync_config_due"),
            models.Index(fields=["changes_pending_since"], condition=Q(enabled=True, frequency="continuous"),
                         name="sync_config_pending"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(frequency__in=Frequency.values), name="sync_config_frequency_valid"),
            models.CheckConstraint(condition=Q(enabled=False) | Q(anchor_at__isnull=False, next_run_at__isnull=False),
                                   name="sync_config_enabled_has_schedule"),
        ]

    def __str__(self):
        return f"sync {self.mapping_id}"

    @property
    def interval(self) -> timedelta:
        return INTERVALS[self.frequency]

    @property
    def is_continuous(self) -> bool:
        return self.frequency == Frequency.CONTINUOUS


# A worker that is up picks a queued run within seconds; after this, the page says why it may be waiting.
QUEUE_PATIENCE = timedelta(minutes=1)


class SyncRun(models.Model):
    """One run of the sync for a mapping: a row a person can open, with counts per entity type."""

    # Not stored: set on the instance a service returns when its hand-over to the task queue failed after the run
    # was saved (the broker did not answer). The run stays queued and the dispatcher sends it again.
    waiting_for_queue = False

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        CONTINUOUS = "continuous", _("Continuous")
        FIRST = "first", _("First sync")
        MANUAL = "manual", _("Sync now")
        COMMAND = "command", _("Command line")
        SWITCH_BACK = "switchback", _("Switch back")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    mapping = models.ForeignKey("tenants.BcpMapping", on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="sync_runs",
                                verbose_name=_("BCP mapping"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING,
                                     db_constraint=False, null=True, blank=True,
                                     related_name="+", verbose_name=_("started by"))
    full = models.BooleanField(_("full comparison"), default=False)
    # Every record of the selected types was proven in step with its copy: compared in full, or by digests.
    checked = models.BooleanField(_("checked in full"), default=False, editable=False)
    entity_types = models.JSONField(_("entity types"), default=list)
    queued_at = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # A running run's worker writes this (on a connection of its own) as it goes; a run that stops writing it has
    # lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # {entity type: {"total", "done", "created", "updated", "deleted", "unchanged", "failed"}}
    counts = models.JSONField(_("counts"), default=dict)
    current_type = models.CharField(max_length=30, blank=True)
    # Sentences for people: what went wrong, naming the records.
    errors = models.JSONField(_("errors"), default=list)
    skip_reason = models.CharField(_("why it was skipped"), max_length=255, blank=True)
    # The instant of the primary's snapshot this run copied: after it succeeded, the BCP tenant is the primary as it
    # was then (the RPO the pages state).
    source_as_of = models.DateTimeField(_("primary as of"), null=True, blank=True)
    # The fence generation the run read when it started; it commits only if the fence still says so.
    fence_generation = models.PositiveIntegerField(null=True, blank=True, editable=False)

    objects = RegionManager()

    class Meta:
        ordering = ["-queued_at", "-id"]
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        indexes = [models.Index(fields=["mapping", "-queued_at"], name="sync_run_history"),
                   models.Index(fields=["mapping", "status", "-finished_at"], name="sync_run_last_status")]
        constraints = [
            # Two runs for one mapping never overlap: at most one queued or running.
            models.UniqueConstraint(fields=["mapping"], condition=Q(status__in=["queued", "running"]),
                                    name="sync_run_one_active_per_mapping"),
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "succeeded", "failed", "skipped"]),
                                   name="sync_run_status_valid"),
        ]

    def __str__(self):
        return f"sync run {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def totals(self) -> dict:
        keys = ("created", "updated", "deleted", "unchanged", "failed")
        return {key: sum(c.get(key, 0) for c in self.counts.values()) for key in keys}

    @property
    def waiting_too_long(self) -> bool:
        """Queued for longer than a free worker takes to pick a run up: the page explains the wait."""
        return self.status == self.Status.QUEUED and timezone.now() - self.queued_at > QUEUE_PATIENCE

    @property
    def progress_percent(self) -> int:
        total = sum(c.get("total", 0) for c in self.counts.values())
        done = sum(c.get("done", 0) for c in self.counts.values())
        if self.status not in self.ACTIVE:
            return 100
        return min(99, int(100 * done / total)) if total else 0

    @property
    def as_of(self):
        """The instant of the primary this run copied (its snapshot); runs from before snapshots: their start."""
        return self.source_as_of or self.started_at

    @property
    def region_not_answering(self) -> str:
        """The name of the region whose database did not answer when that is why the run failed, else "": a run
        that failed so copied nothing, and its status line says so rather than "did not copy everything"."""
        from bcp_project.regions import region_label

        down = next((error.get("region", "") for error in self.errors if error.get("code") == "region_down"), None)
        return region_label(down) if down is not None else ""

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class Correlation(models.Model):
    """The link from a primary record to its copy on the BCP tenant, whose id differs.

    `content_hash` is the hash of the primary record (with its links expressed as primary ids) when it
    was last written to the copy; foreign keys on the copy are remapped through these rows.
    """

    mapping = models.ForeignKey("tenants.BcpMapping", on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="correlations",
                                verbose_name=_("BCP mapping"))
    entity_type = models.CharField(_("entity type"), max_length=30)
    source_id = models.BigIntegerField(_("primary record"))
    target_id = models.BigIntegerField(_("BCP record"))
    content_hash = models.CharField(_("content hash"), max_length=32)
    # The primary record's digest as its database computes it (sync.engine.digest) when it was last written.
    digest = models.BigIntegerField(_("digest"), null=True, blank=True)
    synced_at = models.DateTimeField(_("last written"))

    objects = RegionManager()

    class Meta:
        verbose_name = _("correlation")
        verbose_name_plural = _("correlations")
        constraints = [
            models.UniqueConstraint(fields=["mapping", "entity_type", "source_id"], name="sync_correlation_source"),
            models.UniqueConstraint(fields=["mapping", "entity_type", "target_id"], name="sync_correlation_target"),
        ]

    def __str__(self):
        return f"{self.entity_type} {self.source_id} → {self.target_id}"


class Fence(models.Model):
    """One row per BCP pair, in the backup's region: a switch moves it (generation + 1) before it flips the pair in
    the control plane, and a run commits only if the generation it read at its start is still the one there,
    checked under the row's lock just before it commits. So no run's write lands after a switch began."""

    mapping = models.OneToOneField("tenants.BcpMapping", on_delete=models.DO_NOTHING, db_constraint=False,
                                   related_name="+", verbose_name=_("BCP mapping"))
    generation = models.PositiveIntegerField(_("generation"), default=0)
    moved_at = models.DateTimeField(_("moved"), null=True, blank=True)

    objects = RegionManager()

    class Meta:
        verbose_name = _("sync fence")
        verbose_name_plural = _("sync fences")

    def __str__(self):
        return f"fence {self.mapping_id} @{self.generation}"


class CarryBack(models.Model):
    """One carry-back of the work done on the BCP tenant to the primary (sync/carryback.py), in the backup's region
    beside the correlations it finishes. Written `pending` (and committed) before the primary's transaction; set
    `done` in the transaction that writes the correlations. A pending one is finished or dropped by the next
    carry-back, listing or forward run, according to the audit rows the primary's writes left with it (in its region
    and, for roles and users, the control plane)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    mapping = models.ForeignKey("tenants.BcpMapping", on_delete=models.DO_NOTHING, db_constraint=False,
                                related_name="+", verbose_name=_("BCP mapping"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # The keys of the records chosen ("<type>:<BCP id>", or "<type>:p<primary id>" for a copy deleted there).
    items = models.JSONField(_("records"), default=list)
    by_name = models.CharField(_("by"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = RegionManager()

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("carry-back")
        verbose_name_plural = _("carry-backs")
        indexes = [models.Index(fields=["mapping", "status"], name="sync_carryback_pending")]

    def __str__(self):
        return f"carry-back {self.pk} ({self.status})"


class Change(models.Model):
    """The change log: a record of a synced type changed since a run last looked at it, one row per tenant, type
    and top-level record (a child's change names its parent). Database triggers write it (sync.engine.capture), in
    the database of the change, for every write however it was made (a service, QuerySet.update(), the CSV import,
    raw SQL); a run reads its pair's rows in its snapshot and deletes the ones it read once the backup committed.
    A new change to a record with a row waiting gives that row a new id, so a run never deletes a change it did not
    see."""

    tenant_id = models.UUIDField(_("tenant"))
    entity_type = models.CharField(_("entity type"), max_length=30)
    record_id = models.BigIntegerField(_("record"))

    class Meta:
        verbose_name = _("sync change")
        verbose_name_plural = _("sync changes")
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "entity_type", "record_id"], name="sync_change_record"),
        ]

    def __str__(self):
        return f"{self.entity_type} {self.record_id} @{self.tenant_id}"
