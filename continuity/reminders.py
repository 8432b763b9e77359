"""The daily reminders of a plan's owners: a drill overdue, an emergency contact not reviewed for 90 days, a
follow-up action past due. Each cause is reminded of at most once a week (a Reminder row per cause); each owner
gets one email per run that lists every cause, in their own language."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bcp_project.regions.transactions import tenant_transaction
from tenants.models import Tenant

from .drills.selectors import drill_schedule
from .models import CONTACT_REVIEW_DAYS, EmergencyContact, FollowUpAction, Plan, Reminder
from .plan.selectors import reminder_recipients

logger = logging.getLogger(__name__)

REMIND_EVERY = timedelta(days=7)
DRILL_OVERDUE = "drill_overdue"


@dataclass
class Cause:
    key: str
    kind: str  # "drill", "contact" or "action"
    obj: object = None
    schedule: object = None


@dataclass
class Sent:
    tenant_id: object
    causes: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)


def _site() -> str:
    """Where the emails' links point: SITE_URL when it is set, else the first trusted origin, else only paths."""
    site = getattr(settings, "SITE_URL", "") or next(iter(getattr(settings, "CSRF_TRUSTED_ORIGINS", []) or []), "")
    return site.rstrip("/")


def _link(name: str) -> str:
    try:
        return _site() + reverse(name)
    except NoReverseMatch:
        return ""


def _causes(plan: Plan, today) -> list[Cause]:
    tenant = plan.tenant
    causes = []
    schedule = drill_schedule(tenant=tenant, plan=plan, today=today)
    if schedule.overdue:
        causes.append(Cause(DRILL_OVERDUE, "drill", schedule=schedule))
    stale_before = today - timedelta(days=CONTACT_REVIEW_DAYS)
    for contact in EmergencyContact.objects.filter(tenant=tenant, last_reviewed__lt=stale_before):
        causes.append(Cause(f"contact_stale:{contact.pk}", "contact", obj=contact))
    for action in (FollowUpAction.objects.filter(tenant=tenant, done_on__isnull=True, due_on__lt=today)
                   ):
        causes.append(Cause(f"action_overdue:{action.pk}", "action", obj=action))
    return causes


def _line(cause: Cause) -> str:
    if cause.kind == "drill":
        schedule = cause.schedule
        if schedule.last_drill is None:
            return _("A drill is overdue: none has been recorded since the plan was started on %(since)s, and the "
                     "plan asks for one %(frequency)s (due %(due)s).") % {
                "since": date_format(schedule.since), "frequency": schedule.label.lower(),
                "due": date_format(schedule.next_due)}
        return _("A drill is overdue: the last one was on %(since)s, and the plan asks for one %(frequency)s (due "
                 "%(due)s).") % {"since": date_format(schedule.since), "frequency": schedule.label.lower(),
                                 "due": date_format(schedule.next_due)}
    if cause.kind == "contact":
        contact = cause.obj
        return _("The emergency contact “%(name)s” was last reviewed on %(date)s, more than %(days)d days ago: "
                 "check their phone and email.") % {"name": contact.name, "date": date_format(contact.last_reviewed),
                                                   "days": CONTACT_REVIEW_DAYS}
    action = cause.obj
    owner = (action.owner.get_full_name() or action.owner.get_username()) if action.owner else _("nobody")
    return _("The follow-up action “%(action)s” was due on %(date)s (owner: %(owner)s).") % {
        "action": action.description, "date": date_format(action.due_on), "owner": owner}


def _email(user, tenant, causes: list[Cause]) -> tuple[str, str]:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = ngettext("Continuity plan of %(tenant)s: %(count)d reminder",
                           "Continuity plan of %(tenant)s: %(count)d reminders", len(causes)) % {
            "tenant": tenant.name, "count": len(causes)}
        lines = [_("Hello %(name)s,") % {"name": user.get_full_name() or user.get_username()},
                 _("You receive this as an owner of the continuity plan of “%(tenant)s”. Each reminder is sent at "
                   "most once a week.") % {"tenant": tenant.name}]
        lines += ["- " + _line(cause) for cause in causes]
        kinds = {cause.kind for cause in causes}
        if kinds & {"drill", "action"}:
            lines.append(_("Drills and follow-up actions: %(link)s") % {"link": _link("continuity:drills")
                                                                       or _("Continuity Plan → Drills")})
        if "contact" in kinds:
            lines.append(_("Emergency contacts: %(link)s") % {"link": _link("continuity:plan")
                                                             or _("Continuity Plan → Emergency contacts")})
        lines.append(_("Plan owners and the drill frequency: %(link)s") % {
            "link": _link("continuity:settings") or _("Continuity Plan → Settings")})
        return subject, "\n\n".join(lines)


def reminders_send(*, now: datetime | None = None) -> list[Sent]:
    """One pass over every plan: what is due and was not reminded of in the last week is emailed, one email per
    owner listing it all. The Reminder rows are written before the emails go (and under the plan's row lock), so
    that two passes at once cannot both send, and a failed email is not resent before next week."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    results = []
    # A BCP tenant's contacts are copies of the primary's: the primary's owners are reminded of them, once.
    # The tenants are in the control plane, their plans in their regions' databases: one region at a time.
    tenants = Tenant.objects.filter(status=Tenant.Status.ACTIVE, bcp_as_secondary__isnull=True).select_related("region")
    by_region: dict[str, list] = {}
    for tenant in tenants:
        by_region.setdefault(tenant.region.code, []).append(tenant)
    plans = [(alias, plan_id) for alias, members in by_region.items()
             for plan_id in Plan.objects.using(alias).filter(tenant__in=members).values_list("pk", flat=True)]
    for alias, plan_id in plans:
        with tenant_transaction(alias):
            plan = Plan.objects.using(alias).select_for_update(of=("self",)).get(pk=plan_id)
            causes = _causes(plan, today)
            recent = set(Reminder.objects.filter(tenant=plan.tenant, sent_at__gt=now - REMIND_EVERY,
                                                 cause__in=[c.key for c in causes]).values_list("cause", flat=True))
            causes = [cause for cause in causes if cause.key not in recent]
            if not causes:
                continue
            recipients = reminder_recipients(plan=plan)
            if not recipients:
                logger.warning("continuity reminders for %s have nobody to go to", plan.tenant)
                continue
            Reminder.objects.bulk_create([Reminder(tenant=plan.tenant, cause=cause.key, sent_at=now,
                                                   recipients=len(recipients)) for cause in causes])
            emails = [(user.email, *_email(user, plan.tenant, causes)) for user in recipients]
            transaction.on_commit(lambda emails=emails: _send(emails), using=alias)
            results.append(Sent(tenant_id=plan.tenant_id, causes=[c.key for c in causes],
                                recipients=[user.email for user in recipients]))
    return results


def _send(emails) -> None:
    for address, subject, body in emails:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        except Exception:  # noqa: BLE001 - one mail server problem must not keep the others' reminders
            logger.exception("continuity reminder to %s failed", address)
