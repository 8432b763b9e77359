"""The contact-center configuration of a tenant: what the BCP sync copies to the backup tenant.

Every row carries its `tenant` (row-level tenancy) and `created_at`/`updated_at`. Each top-level
type has a natural key (`natural_key()`) that is stable across tenants — the name within the
tenant, or the username for agents — so that a sync can adopt an existing row on the target.
Deleting a top-level row through the services writes a `Deletion` the sync reads later.
"""

import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from bcp_project.regions.querysets import RegionManager

PROFICIENCY_MIN = 1
PROFICIENCY_MAX = 20

PHONE_RE = re.compile(r"^\+[1-9]\d{6,14}$")
ENTRY_POINT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
HANDLE_RE = re.compile(r"^@?[A-Za-z0-9_.-]{2,64}$")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Social")
    WORK_ITEM = "work_item", _("Work item")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Classification(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    UNRESOLVED = "unresolved", _("Not resolved")
    FOLLOW_UP = "follow_up", _("Follow-up needed")
    NOT_REACHED = "not_reached", _("Customer not reached")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone; use a name such as Europe/Berlin."),
                              params={"value": value}, code="timezone")


def validate_address(channel: str, address: str) -> None:
    """The address a point of contact answers on must suit its channel."""
    if channel in (Channel.PHONE, Channel.SMS):
        if not PHONE_RE.match(address):
            raise ValidationError(_("Enter the phone number in international format, e.g. +14155550123."),
                                  code="phone")
    elif channel == Channel.EMAIL:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(_("Enter an email address such as support@example.com."), code="email") from None
    elif channel == Channel.SOCIAL:
        if not HANDLE_RE.match(address):
            raise ValidationError(_("Enter the account handle, e.g. @classics_help."), code="handle")
    elif not ENTRY_POINT_RE.match(address):
        raise ValidationError(
            _("Enter an entry-point ID of 2–63 lower-case letters, digits, dots, dashes or underscores."),
            code="entry_point",
        )


class TenantScoped(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                               verbose_name=_("tenant"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RegionManager()

    class Meta:
        abstract = True


class NamedTenantScoped(TenantScoped):
    """A top-level type whose natural key is its name, unique per tenant regardless of case."""

    name = models.CharField(_("name"), max_length=100)

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.name,)


def _unique_name(model: str):
    return models.UniqueConstraint("tenant", Lower("name"), name=f"cc_{model}_name_unique_per_tenant",
                                   violation_error_message=_("This name is already taken in this tenant."))


def _ordering_index(model: str):
    return models.Index(fields=["tenant", "name", "id"], name=f"cc_{model}_tenant_name")


class Team(NamedTenantScoped):
    """A group of agents led together. Deleting a team leaves its members without a team."""

    ENTITY_TYPE = "team"
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta(NamedTenantScoped.Meta):
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [_unique_name("team")]
        indexes = [_ordering_index("team")]


class Skill(NamedTenantScoped):
    """What a contact needs (a queue): routed to by points of contact, held by agents with a proficiency."""

    ENTITY_TYPE = "skill"
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.PHONE)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices,
                                 default=Direction.INBOUND)
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta(NamedTenantScoped.Meta):
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        constraints = [
            _unique_name("skill"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="cc_skill_channel_valid"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="cc_skill_direction_valid"),
        ]
        indexes = [_ordering_index("skill")]


class AgentProfile(TenantScoped):
    """The agent side of a tenant user (accounts.User holds the sign-in and the role): team, whether
    the agent takes contacts, and skills with a proficiency. Natural key: the username."""

    ENTITY_TYPE = "user"
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="agent_profile",
                                verbose_name=_("user"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members",
                             verbose_name=_("team"))
    active = models.BooleanField(_("active"), default=True)
    skills = models.ManyToManyField(Skill, through="SkillAssignment", related_name="agents", blank=True,
                                    verbose_name=_("skills"))

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        indexes = [models.Index(fields=["tenant", "team"], name="cc_agent_tenant_team")]

    def __str__(self):
        return str(self.user)

    def natural_key(self) -> tuple[str]:
        return (self.user.username,)


class SkillAssignment(TenantScoped):
    """An agent holds a skill at a proficiency from 1 (best) to 20. Goes with its agent or skill."""

    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="assignments",
                              verbose_name=_("agent"))
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("skill"))
    proficiency = models.PositiveSmallIntegerField(
        _("proficiency"), default=PROFICIENCY_MIN,
        validators=[MinValueValidator(PROFICIENCY_MIN), MaxValueValidator(PROFICIENCY_MAX)],
    )

    class Meta:
        ordering = ["skill__name"]
        verbose_name = _("skill assignment")
        verbose_name_plural = _("skill assignments")
        constraints = [
            models.UniqueConstraint("agent", "skill", name="cc_assignment_unique"),
            models.CheckConstraint(condition=Q(proficiency__gte=PROFICIENCY_MIN, proficiency__lte=PROFICIENCY_MAX),
                                   name="cc_assignment_proficiency_range"),
        ]

    def __str__(self):
        return f"{self.skill_id}@{self.proficiency}"

    def natural_key(self) -> tuple[str, str]:
        return (self.agent.user.username, self.skill.name)


class HoursOfOperation(NamedTenantScoped):
    """When a point of contact is open: one row per weekday (`days`) and dated exceptions such as holidays."""

    ENTITY_TYPE = "hours"
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_timezone])
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta(NamedTenantScoped.Meta):
        verbose_name = _("hours of operation")
        verbose_name_plural = _("hours of operation")
        constraints = [_unique_name("hours")]
        indexes = [_ordering_index("hours")]


_HOURS_CONSISTENT = Q(closed=True) | Q(opens_at__isnull=False, closes_at__isnull=False, opens_at__lt=F("closes_at"))


class HoursDay(TenantScoped):
    """The opening hours of one weekday. Closed, or open from `opens_at` to `closes_at` (same day)."""

    hours = models.ForeignKey(HoursOfOperation, on_delete=models.CASCADE, related_name="days",
                              verbose_name=_("hours of operation"))
    day = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    closed = models.BooleanField(_("closed"), default=False)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("opening day")
        verbose_name_plural = _("opening days")
        constraints = [
            models.UniqueConstraint("hours", "day", name="cc_hoursday_unique"),
            models.CheckConstraint(condition=Q(day__gte=0, day__lte=6), name="cc_hoursday_day_range"),
            models.CheckConstraint(condition=_HOURS_CONSISTENT, name="cc_hoursday_open_before_close"),
        ]

    def __str__(self):
        return f"{self.get_day_display()}"

    def natural_key(self) -> tuple[str, int]:
        return (self.hours.name, self.day)


class HoursException(TenantScoped):
    """A dated exception to the weekly schedule (a holiday, a short day): closed, or special hours."""

    hours = models.ForeignKey(HoursOfOperation, on_delete=models.CASCADE, related_name="exceptions",
                              verbose_name=_("hours of operation"))
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)
    closed = models.BooleanField(_("closed"), default=True)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("exception")
        verbose_name_plural = _("exceptions")
        constraints = [
            models.UniqueConstraint("hours", "date", name="cc_hoursexception_unique_date"),
            models.CheckConstraint(condition=_HOURS_CONSISTENT, name="cc_hoursexception_open_before_close"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"

    def natural_key(self) -> tuple[str, str]:
        return (self.hours.name, self.date.isoformat())


class PointOfContact(NamedTenantScoped):
    """Where contacts arrive (a phone number, an email address, a chat entry point ...): routed to one
    skill during its hours of operation. The skill and hours cannot be deleted while it uses them."""

    ENTITY_TYPE = "point_of_contact"
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.PHONE)
    address = models.CharField(_("address"), max_length=254,
                               help_text=_("The phone number, email address, chat entry point or handle."))
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="points_of_contact",
                              verbose_name=_("skill"))
    hours = models.ForeignKey(HoursOfOperation, on_delete=models.PROTECT, related_name="points_of_contact",
                              verbose_name=_("hours of operation"))

    class Meta(NamedTenantScoped.Meta):
        verbose_name = _("point of contact")
        verbose_name_plural = _("points of contact")
        constraints = [
            _unique_name("poc"),
            models.UniqueConstraint("tenant", "channel", Lower("address"), name="cc_poc_address_unique_per_tenant",
                                    violation_error_message=_("Another point of contact already uses this address.")),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="cc_poc_channel_valid"),
        ]
        indexes = [_ordering_index("poc"), models.Index(fields=["skill"], name="cc_poc_skill"),
                   models.Index(fields=["hours"], name="cc_poc_hours")]

    def clean(self):
        super().clean()
        if self.channel and self.address:
            try:
                validate_address(self.channel, self.address)
            except ValidationError as exc:
                raise ValidationError({"address": exc}) from None


class Disposition(NamedTenantScoped):
    """The outcome an agent records when a contact ends, and the skills that offer it."""

    ENTITY_TYPE = "disposition"
    Classification = Classification

    classification = models.CharField(_("classification"), max_length=12, choices=Classification.choices,
                                      default=Classification.RESOLVED)
    skills = models.ManyToManyField(Skill, related_name="dispositions", blank=True, verbose_name=_("skills"))

    class Meta(NamedTenantScoped.Meta):
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        constraints = [
            _unique_name("disposition"),
            models.CheckConstraint(condition=Q(classification__in=Classification.values),
                                   name="cc_disposition_classification_valid"),
        ]
        indexes = [_ordering_index("disposition")]


class UnavailableCode(NamedTenantScoped):
    """An agent state that takes the agent out of routing (Break, Lunch, Training ...)."""

    ENTITY_TYPE = "unavailable_code"
    after_contact_work = models.BooleanField(
        _("after-contact work"), default=False,
        help_text=_("Agents enter this state to finish work on a contact that has ended."),
    )

    class Meta(NamedTenantScoped.Meta):
        verbose_name = _("unavailable code")
        verbose_name_plural = _("unavailable codes")
        constraints = [_unique_name("unavailable")]
        indexes = [_ordering_index("unavailable")]


class Tag(NamedTenantScoped):
    """A label agents attach to contacts for reporting."""

    ENTITY_TYPE = "tag"
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta(NamedTenantScoped.Meta):
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [_unique_name("tag")]
        indexes = [_ordering_index("tag")]


class Deletion(models.Model):
    """A tombstone: a top-level configuration row that was deleted, so that a sync can delete its copy.

    Written by the delete services of every app whose records sync. `entity_type` is the deleted model's
    ENTITY_TYPE, the key of a type registered with the sync (sync.engine.registry; `manage.py check` holds
    that), which this app, below the sync, does not list. `natural_key` is the name (or username) the row had.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                               verbose_name=_("tenant"))
    entity_type = models.CharField(_("entity type"), max_length=20)
    object_id = models.BigIntegerField(_("object ID"))
    natural_key = models.CharField(_("natural key"), max_length=255)
    deleted_at = models.DateTimeField(_("deleted"), auto_now_add=True, db_index=True)

    objects = RegionManager()

    class Meta:
        ordering = ["deleted_at", "id"]
        verbose_name = _("deletion")
        verbose_name_plural = _("deletions")
        indexes = [models.Index(fields=["tenant", "entity_type", "deleted_at"], name="cc_deletion_since")]

    def __str__(self):
        return f"{self.entity_type}:{self.natural_key}"
