"""Platform status, written: what account representatives say about a region or a tenant, who subscribes to
hear of it, and the emails a change sends. selectors.py reads it.

Writes take who acts as an `Actor`; only views build one from a request. Emails leave after the commit, one
per subscriber, in the subscriber's language.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL, region_name
from bcp_project.templatetags.times import when_text
from tenants.models import Region, Tenant

from .models import PlatformStatus, StatusLevel, StatusSubscription
from .selectors import affected_tenant_ids, deliverable_subscriptions, effective_statuses

NEEDS_MESSAGE = {StatusLevel.DEGRADED, StatusLevel.OUTAGE}


class StatusError(ApplicationError):
    """A status or subscription that cannot be set as asked; the message says what to change."""


@dataclass(frozen=True)
class StatusChange:
    """What platform_status_set did: `changed` is False when that status was already in force."""

    status: PlatformStatus | None
    changed: bool
    notified: int = 0  # subscribers an email goes to


def _target(*, region: Region | None, tenant: Tenant | None) -> dict:
    if (region is None) == (tenant is None):
        raise StatusError(_("Set the status of either a region or a tenant, not both."))
    return {"region": region} if region is not None else {"tenant": tenant}


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


@transaction.atomic(using=CONTROL)
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
            with transaction.atomic(using=CONTROL):
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
        transaction.on_commit(lambda: _send(notices), using=CONTROL)
    return StatusChange(status=current, changed=True, notified=len(notices))


@transaction.atomic(using=CONTROL)
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
    tenant_ids = affected_tenant_ids(region=status.region, tenant=status.tenant)
    subscriptions = list(deliverable_subscriptions(tenant_ids).select_related("user", "tenant", "tenant__region"))
    if not subscriptions:
        return []
    effective = effective_statuses(tenants={s.tenant_id: s.tenant for s in subscriptions}.values())
    scope_region = (status.region.code, status.region.name) if status.region is not None else None
    return [{
        "email": s.user.email, "language": s.user.language or settings.LANGUAGE_CODE, "tenant": s.tenant.name,
        "region": scope_region, "level": status.level, "message": status.message,
        "at": status.updated_at, "effective": effective[s.tenant_id].level,
    } for s in subscriptions]


def _email(notice: dict) -> tuple[str, str]:
    tenant, level = notice["tenant"], StatusLevel(notice["level"]).label
    effective = StatusLevel(notice["effective"])
    subject = _("Status alert for %(tenant)s: %(level)s") % {"tenant": tenant, "level": effective.label}
    if notice["region"]:
        lines = [_("At %(time)s the platform status of the region %(region)s, where %(tenant)s is hosted, "
                   "was set to %(level)s.") % {"time": when_text(notice["at"]),
                                               "region": region_name(*notice["region"]), "tenant": tenant,
                                               "level": level}]
    else:
        lines = [_("At %(time)s the platform status of %(tenant)s was set to %(level)s.")
                 % {"time": when_text(notice["at"]), "tenant": tenant, "level": level}]
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
