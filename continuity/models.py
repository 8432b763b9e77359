"""The continuity plan of a tenant: what the contact center does when something fails.

The sections (teams, critical systems, emergency contacts, procedures with their steps, activation triggers)
are configuration: the sync copies them to the BCP tenant like the contact-center types, so the plan can be
read there during an outage. The plan record itself (owners, drill schedule, version counter), its versions,
drills and reminders belong to the tenant they were made on and are not copied.

Every section row is written through continuity.plan.services, which records a PlanVersion per change and a
contactcenter.Deletion per deleted row (so that "Changes since the last sync" lists it).
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bcp_project.regions.querysets import RegionManager
from contactcenter.models import NamedTenantScoped

# A contact whose details nobody has confirmed for this long is flagged.
CONTACT_REVIEW_DAYS = 90


def _unique_name(model: str):
    return models.UniqueConstraint("tenant", Lower("name"), name=f"continuity_{model}_name_unique_per_tenant",
                                   violation_error_message=_("This name is already taken in this plan."))


class Positioned(NamedTenantScoped):
    """A section row shown in an order the administrator chooses (1, 2, 3 …)."""

    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta(NamedTenantScoped.Meta):
        abstract = True
        ordering = ["position", "id"]


class Plan(models.Model):
    """One per tenant, made when the plan is first opened by someone who may edit it."""

    class DrillFrequency(models.IntegerChoices):
        MONTHLY = 1, _("Every month")
        QUARTERLY = 3, _("Every 3 months")
        HALF_YEARLY = 6, _("Every 6 months")
        YEARLY = 12, _("Every year")

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.DO_NOTHING,
                                  db_constraint=False, related_name="continuity_plan",
                                  verbose_name=_("tenant"))
    version = models.PositiveIntegerField(_("version"), default=0)
    drill_every_months = models.PositiveSmallIntegerField(_("drill frequency"), choices=DrillFrequency.choices,
                                                          default=DrillFrequency.QUARTERLY)
    # The owners' user ids: users live in the control plane, the plan in the tenant's region, and no table may
    # join the two (docs/architecture.md, "Where data lives"). Read and set them through `owners`.
    owner_ids = models.JSONField(_("plan owners"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RegionManager()

    class Meta:
        verbose_name = _("continuity plan")
        verbose_name_plural = _("continuity plans")

    def __str__(self):
        return str(_("Continuity plan of %(tenant)s") % {"tenant": self.tenant})

    @property
    def owners(self) -> "PlanOwners":
        return PlanOwners(self)


class PlanOwners:
    """`plan.owners`: the plan's owners as users of the control plane."""

    def __init__(self, plan: "Plan"):
        self.plan = plan

    def all(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk__in=self.plan.owner_ids).order_by("username")

    def values_list(self, *fields, **kwargs):
        return self.all().values_list(*fields, **kwargs)

    def exists(self) -> bool:
        return self.all().exists()

    def set(self, users) -> None:
        self.plan.owner_ids = sorted({getattr(user, "pk", user) for user in users})
        self.plan.save(update_fields=["owner_ids", "updated_at"])

    def remove(self, user_id: int) -> None:
        if user_id in self.plan.owner_ids:
            self.set([pk for pk in self.plan.owner_ids if pk != user_id])


class PlanVersion(models.Model):
    """The whole plan as it was after one change, with who made the change, when, and what it was."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                               verbose_name=_("tenant"))
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False,
                              related_name="+", verbose_name=_("who"))
    actor_name = models.CharField(_("who"), max_length=200, blank=True)
    summary = models.CharField(_("what changed"), max_length=300)
    # [{"section": key, "item": name, "field": label, "old": text, "new": text}, …]
    changes = models.JSONField(_("changes"), default=list, blank=True)
    # {section key: [ {field: value, …}, … ]}: what plan.selectors.plan_snapshot() gives.
    snapshot = models.JSONField(_("plan"), default=dict)

    objects = RegionManager()

    class Meta:
        ordering = ["-number"]
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="continuity_version_unique")]

    def __str__(self):
        return f"v{self.number}: {self.summary}"


class PlanTeam(Positioned):
    """Roles and responsibilities: a team that runs part of the plan, and what it does."""

    ENTITY_TYPE = "plan_team"
    responsibilities = models.TextField(_("responsibilities"), blank=True)

    class Meta(Positioned.Meta):
        verbose_name = _("plan team")
        verbose_name_plural = _("plan teams")
        constraints = [_unique_name("team")]


class CriticalSystem(Positioned):
    """A system or support function the contact center cannot work without."""

    ENTITY_TYPE = "critical_system"
    failover = models.TextField(_("backup and failover arrangement"), blank=True)
    responsible_team = models.ForeignKey(PlanTeam, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", verbose_name=_("responsible team"))
    responsible = models.CharField(_("responsible person"), max_length=200, blank=True)
    recovery_procedure = models.TextField(_("recovery procedure"), blank=True)
    restoration_procedure = models.TextField(_("restoration procedure"), blank=True)
    # In minutes; empty until someone sets a goal.
    recovery_time_goal = models.PositiveIntegerField(_("recovery-time goal (minutes)"), null=True, blank=True)

    class Meta(Positioned.Meta):
        verbose_name = _("critical system")
        verbose_name_plural = _("critical systems")
        constraints = [_unique_name("system")]


class EmergencyContact(Positioned):
    """Someone to call when the plan runs. `position` is the escalation order (1 is called first)."""

    ENTITY_TYPE = "emergency_contact"
    role = models.CharField(_("role"), max_length=200, blank=True)
    team = models.ForeignKey(PlanTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("team"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    last_reviewed = models.DateField(_("last reviewed"), default=timezone.localdate)

    class Meta(Positioned.Meta):
        verbose_name = _("emergency contact")
        verbose_name_plural = _("emergency contacts")
        constraints = [_unique_name("contact")]

    @property
    def review_due(self) -> date:
        # A stored date near the calendar's end (however it got there) has no due date after it: the last day.
        if self.last_reviewed > date.max - timedelta(days=CONTACT_REVIEW_DAYS):
            return date.max
        return self.last_reviewed + timedelta(days=CONTACT_REVIEW_DAYS)

    def is_stale(self, today=None) -> bool:
        # Subtracting two dates never overflows, whatever was stored.
        return ((today or timezone.localdate()) - self.last_reviewed).days > CONTACT_REVIEW_DAYS


class Procedure(Positioned):
    """Detection, notification and escalation; damage assessment; or another procedure: ordered steps."""

    class Kind(models.TextChoices):
        DETECTION = "detection", _("Detection, notification and escalation")
        DAMAGE = "damage", _("Damage assessment")
        OTHER = "other", _("Other procedure")

    ENTITY_TYPE = "procedure"
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(_("purpose"), blank=True)

    class Meta(Positioned.Meta):
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        constraints = [_unique_name("procedure")]


class ProcedureStep(models.Model):
    """One step of a procedure; it travels with its procedure in the sync."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                               verbose_name=_("tenant"))
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="steps",
                                  verbose_name=_("procedure"))
    position = models.PositiveIntegerField(_("step"))
    text = models.TextField(_("what to do"))
    team = models.ForeignKey(PlanTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("who does it"))

    objects = RegionManager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("procedure step")
        verbose_name_plural = _("procedure steps")

    def __str__(self):
        return f"{self.position}. {self.text[:60]}"


class ActivationTrigger(Positioned):
    """A criterion that starts the plan, and what to do when it is met."""

    class Action(models.TextChoices):
        BC_ENABLEMENT = "bc_enablement", _("Switch to the BCP tenant on BC Enablement")
        PROCEDURE = "procedure", _("Follow a procedure")
        OTHER = "other", _("Other action")

    ENTITY_TYPE = "activation_trigger"
    criterion = models.TextField(_("criterion"), blank=True)
    action = models.CharField(_("what to do"), max_length=20, choices=Action.choices, default=Action.OTHER)
    procedure = models.ForeignKey(Procedure, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("procedure"))
    instructions = models.TextField(_("instructions"), blank=True)

    class Meta(Positioned.Meta):
        verbose_name = _("activation trigger")
        verbose_name_plural = _("activation triggers")
        constraints = [_unique_name("trigger")]


class Drill(models.Model):
    """Plan validation: an exercise and what it showed. Rehearsals and real switches write their measurements
    into `report`."""

    class Kind(models.TextChoices):
        TABLETOP = "tabletop", _("Tabletop exercise")
        REHEARSAL = "rehearsal", _("Rehearsal (no traffic moved)")
        SWITCH = "switch", _("Real switch and revert")
        OTHER = "other", _("Other exercise")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("In progress")
        PASSED = "passed", _("Passed")
        PARTIAL = "partial", _("Passed with findings")
        FAILED = "failed", _("Failed")

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                               verbose_name=_("tenant"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TABLETOP)
    held_on = models.DateField(_("date"), default=timezone.localdate)
    scenario = models.CharField(_("scenario"), max_length=300)
    participants = models.TextField(_("participants"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.PASSED)
    findings = models.TextField(_("findings"), blank=True)
    # Rehearsals and switches: what was measured ({"rpo_seconds": …, "switch_ms": …, "checks": […], …}).
    report = models.JSONField(_("report"), default=dict, blank=True)
    # A real switch recorded from the audit log: the switch's audit row (so it is recorded once).
    switch_event = models.OneToOneField("audit.AuditEvent", null=True, blank=True, on_delete=models.DO_NOTHING,
                                        db_constraint=False,
                                        related_name="+", verbose_name=_("switch"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                                    db_constraint=False,
                                    related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RegionManager()

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("drill")
        verbose_name_plural = _("drills")
        indexes = [models.Index(fields=["tenant", "-held_on"])]

    def __str__(self):
        return self.scenario


class FollowUpAction(models.Model):
    """Something a drill showed must be fixed, by whom and by when."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                               verbose_name=_("tenant"))
    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="actions", verbose_name=_("drill"))
    description = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False,
                              related_name="+", verbose_name=_("owner"))
    due_on = models.DateField(_("due"))
    done_on = models.DateField(_("done"), null=True, blank=True)

    objects = RegionManager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")

    def __str__(self):
        return self.description

    def is_overdue(self, today=None) -> bool:
        return self.done_on is None and self.due_on < (today or timezone.localdate())


class Reminder(models.Model):
    """A reminder email that went out, so that each cause is reminded of at most once a week."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                               verbose_name=_("tenant"))
    # "drill_overdue", "contact_stale:<id>", "action_overdue:<id>"
    cause = models.CharField(_("cause"), max_length=80)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)

    objects = RegionManager()

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        indexes = [models.Index(fields=["tenant", "cause", "-sent_at"])]

    def __str__(self):
        return self.cause
