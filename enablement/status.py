"""Platform status: what account representatives say about a region or a tenant, who hears of it, and how
well a tenant is doing right now (the worse of its own status and its region's).

Writes take who acts as an `Actor`; only views build one from a request. Emails leave after the commit, one
per subscriber, in the subscriber's language.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from tenants.models import Region, Tenant

from .models import PlatformStatus, StatusLevel, StatusSubscription

NEEDS_MESSAGE = {StatusLevel.DEGRADED, StatusLevel.OUTAGE}


class StatusError(ApplicationError):
    """A status or subscription that cannot be set as asked; the message says what to change."""


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


@dataclass(frozen=True)
class StatusChange:
    """What platform_status_set did: `changed` is False when that status was already in force."""

    status: PlatformStatus | None
    changed: bool
    notified: int = 0  # subscribers an email goes to


# --- reading ---------------------------------------------------------------------------------------------


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


def platform_status_of(*, region: Region | None = None, tenant: Tenant | None = None) -> PlatformStatus | None:
    """The row set for exactly this region or tenant (not the effective status), or None."""
    return PlatformStatus.objects.filter(**_target(region=region, tenant=tenant)).first()


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


def status_subscribed(*, user) -> bool:
    if user.tenant_id is None:
        return False
    return StatusSubscription.objects.filter(user=user, tenant_id=user.tenant_id).exists()


def _subscriptions(tenant_ids) -> QuerySet[StatusSubscription]:
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
    emails = _subscriptions(tenant_ids).values_list("user__email", flat=True)
    unique = {}
    for email in emails:
        unique.setdefault(email.lower(), email)
    return sorted(unique.values(), key=str.lower)


def subscriber_count(*, region: Region | None = None, tenant: Tenant | None = None) -> int:
    """How many subscribers a change of this region's or tenant's status would email."""
    return _subscriptions(_affected_tenant_ids(region=region, tenant=tenant)).count()


def _affected_tenant_ids(*, region: Region | None, tenant: Tenant | None):
    if tenant is not None:
        return [tenant.pk]
    return Tenant.objects.filter(region=region).values("pk")


def _target(*, region: Region | None, tenant: Tenant | None) -> dict:
    if (region is None) == (tenant is None):
        raise StatusError(_("Set the status of either a region or a tenant, not both."))
    return {"region": region} if region is not None else {"tenant": tenant}


# --- writing ---------------------------------------------------------------------------------------------


def _clean(*, level: str, message: str) -> tuple[str, str]:
    if level not in StatusLevel.values:
        raise StatusError(_("Choose Operational, Degraded or Outage."), field="level")
    message = "\n".join(line.rstrip() for line in (message or "").replace("\r\n", "\n").strip().split("\n"))
    if len(message) > PlatformStatus.MESSAGE_MAX_LENGTH:
        raise StatusError(_("Keep the message to %(max)s characters; it has %(length)s.")
                          % {"max": PlatformStatus.MESSAGE_MAX_LENGTH, "length": len(message)}, field="message")
    if level in NEEDS_MESSAGE and not message:
        raise StatusError(_("Say what is happening: Degraded and Outage need a message."), field="message")
    return level, message


@transaction.atomic
def platform_status_set(*, region: Region | None = None, tenant: Tenant | None = None, level: str, message: str,
                        actor: Actor) -> StatusChange:
    """Sets a region's or a tenant's status. The same level and message again changes nothing and emails no
    one; any change is audited and emailed (after the commit) to the subscribers of every tenant it affects."""
    target = _target(region=region, tenant=tenant)
    level, message = _clean(level=level, message=message)
    for _attempt in range(2):
        current = PlatformStatus.objects.select_for_update().filter(**target).first()
        before = (current.level, current.message) if current is not None else (StatusLevel.OPERATIONAL, "")
        if before == (level, message):
            return StatusChange(status=current, changed=False)
        now = timezone.now()
        if current is not None:
            current.level, current.message, current.updated_at, current.updated_by = level, message, now, actor.user
            current.save(update_fields=["level", "message", "updated_at", "updated_by"])
            break
        try:
            with transaction.atomic():
                current = PlatformStatus.objects.create(**target, level=level, message=message, updated_at=now,
                                                        updated_by=actor.user)
            break
        except IntegrityError:
            continue  # another representative made the row at the same moment: lock theirs and compare again
    else:  # pragma: no cover - the unique row exists after the first IntegrityError
        raise StatusError(_("The status changed at the same moment. Reload the page and try again."))
    changes = {"level": [before[0], level], "message": [before[1], message]}
    if region is not None:
        changes["region"] = region.code
    audit_record(action="platform_status.set", by=actor, tenant=tenant, obj=current, changes=changes)
    notices = _notices(status=current)
    if notices:
        transaction.on_commit(lambda: _send(notices))
    return StatusChange(status=current, changed=True, notified=len(notices))


@transaction.atomic
def status_subscription_set(*, user: User, subscribed: bool, actor: Actor) -> bool:
    """Subscribes the user to status alerts for their own tenant, or stops them. Returns whether anything
    changed (asking for what is already so changes nothing)."""
    if user.tenant_id is None:
        raise StatusError(_("Status alerts are for the users of a tenant. Account representatives see every status "
                            "under Tenant Management → Platform status."))
    if subscribed:
        _subscription, changed = StatusSubscription.objects.get_or_create(user=user, tenant_id=user.tenant_id)
    else:
        deleted, _per_model = StatusSubscription.objects.filter(user=user, tenant_id=user.tenant_id).delete()
        changed = deleted > 0
    if changed:
        audit_record(action="status_alerts.subscribe" if subscribed else "status_alerts.unsubscribe", by=actor,
                     tenant=user.tenant, obj=user)
    return changed


# --- email -----------------------------------------------------------------------------------------------


def _notices(*, status: PlatformStatus) -> list[dict]:
    """Everything the emails need, read inside the transaction; the texts are made per recipient later."""
    tenant_ids = _affected_tenant_ids(region=status.region, tenant=status.tenant)
    subscriptions = list(_subscriptions(tenant_ids).select_related("user", "tenant", "tenant__region"))
    if not subscriptions:
        return []
    effective = effective_statuses(tenants={s.tenant_id: s.tenant for s in subscriptions}.values())
    scope_region = status.region.name if status.region is not None else ""
    return [{
        "email": s.user.email, "language": s.user.language or settings.LANGUAGE_CODE, "tenant": s.tenant.name,
        "region": scope_region, "level": status.level, "message": status.message,
        "at": f"{status.updated_at:%Y-%m-%d %H:%M}", "effective": effective[s.tenant_id].level,
    } for s in subscriptions]


def _email(notice: dict) -> tuple[str, str]:
    tenant, level = notice["tenant"], StatusLevel(notice["level"]).label
    effective = StatusLevel(notice["effective"])
    subject = _("Status alert for %(tenant)s: %(level)s") % {"tenant": tenant, "level": effective.label}
    if notice["region"]:
        lines = [_("At %(time)s UTC the platform status of the region %(region)s, where %(tenant)s is hosted, "
                   "was set to %(level)s.") % {"time": notice["at"], "region": notice["region"], "tenant": tenant,
                                               "level": level}]
    else:
        lines = [_("At %(time)s UTC the platform status of %(tenant)s was set to %(level)s.")
                 % {"time": notice["at"], "tenant": tenant, "level": level}]
    if notice["message"]:
        lines.append(_("What is happening: %(message)s") % {"message": notice["message"]})
    lines.append(_("%(tenant)s is now: %(level)s (the worse of its own status and its region's).")
                 % {"tenant": tenant, "level": effective.label})
    if effective == StatusLevel.OUTAGE:
        lines.append(_("During the outage, users of %(tenant)s see an outage page instead of their pages. An "
                       "administrator with BCP Tenant Enablement Edit can switch to the BCP tenant under Admin → BC "
                       "Enablement; everyone is then asked to sign in again, with the same username and password.")
                     % {"tenant": tenant})
    lines.append(_("You get this email because you subscribed to status alerts under My Profile → Status alerts. "
                   "You can unsubscribe there."))
    return subject, "\n\n".join(str(line) for line in lines)


def _send(notices: list[dict]) -> None:
    messages = []
    for notice in notices:
        with translation.override(notice["language"]):
            subject, body = _email(notice)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [notice["email"]]))
    # One message per recipient, so that subscribers do not see each other's addresses.
    get_connection(fail_silently=True).send_messages(messages)
