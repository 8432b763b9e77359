"""Reads for plan validation: the drill schedule, the drills, their follow-up actions, who gets reminders."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from bcp_project.permissions import CHANGE_CONTINUITY_PLAN
from sync.messages import skip_text
from sync.models import SyncRun
from tenants.models import BcpMapping, Tenant, TenantGroupObjectPermission

from .models import Drill, FollowUpAction, Plan


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st of a shorter month becomes its last day."""
    years, month = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Schedule:
    every_months: int
    label: str
    last_drill: Drill | None
    # The day the schedule counts from: the last drill, or the day the plan was started.
    since: date
    next_due: date
    today: date

    @property
    def overdue(self) -> bool:
        return self.next_due < self.today

    @property
    def days_overdue(self) -> int:
        return max(0, (self.today - self.next_due).days)


def drill_schedule(*, tenant: Tenant, plan: Plan | None = None, today: date | None = None) -> Schedule:
    """How often the tenant drills, when it last did, and when the next drill is due. Two queries at most."""
    today = today or timezone.localdate()
    plan = plan if plan is not None else Plan.objects.filter(tenant=tenant).first()
    every = plan.drill_every_months if plan is not None else Plan.DrillFrequency.QUARTERLY
    # A rehearsal still waiting for its sync has not validated anything yet.
    last = (Drill.objects.filter(tenant=tenant).exclude(outcome=Drill.Outcome.PENDING)
            .order_by("-held_on", "-id").first())
    if last is not None:
        since = last.held_on
    elif plan is not None:
        since = timezone.localdate(plan.created_at)
    else:
        since = today
    return Schedule(every_months=every, label=str(Plan.DrillFrequency(every).label), last_drill=last, since=since,
                    next_due=add_months(since, every), today=today)


def drill_list(*, tenant: Tenant):
    """The tenant's drills, newest first, each with its number of open follow-up actions."""
    return (Drill.objects.filter(tenant=tenant).select_related("recorded_by")
            .annotate(open_actions=Count("actions", filter=Q(actions__done_on__isnull=True)))
            .order_by("-held_on", "-id"))


def drill_get(*, tenant: Tenant, pk: int) -> Drill:
    """One drill of the tenant; another tenant's is a 404."""
    return get_object_or_404(Drill.objects.select_related("recorded_by", "switch_event"), tenant=tenant, pk=pk)


def open_actions(*, tenant: Tenant):
    """Follow-up actions not done yet, soonest due first, with their owner and drill."""
    return (FollowUpAction.objects.filter(tenant=tenant, done_on__isnull=True)
            .select_related("owner", "drill").order_by("due_on", "id"))


def drill_actions(*, drill: Drill):
    return drill.actions.select_related("owner").order_by("done_on", "due_on", "id")


def action_get(*, tenant: Tenant, pk: int) -> FollowUpAction:
    return get_object_or_404(FollowUpAction.objects.select_related("drill", "owner"), tenant=tenant, pk=pk)


def tenant_people(*, tenant: Tenant):
    """The people of the tenant who can own a follow-up action or the plan: its active users."""
    return User.objects.filter(tenant=tenant, is_active=True).order_by("first_name", "last_name", "username")


def plan_editors(*, tenant: Tenant):
    """Active users of the tenant whose role holds Continuity Plan: Edit."""
    groups = TenantGroupObjectPermission.objects.filter(
        content_object=tenant, permission__codename=CHANGE_CONTINUITY_PLAN,
        permission__content_type__app_label="tenants").values("group_id")
    return User.objects.filter(tenant=tenant, is_active=True, role__group_id__in=groups)


def reminder_recipients(*, plan: Plan) -> list:
    """The plan's owners; when none are chosen, everyone who may edit the plan. Only those with an email."""
    chosen = list(plan.owners.all())
    if chosen:
        return [user for user in chosen if user.is_active and user.email]
    return list(plan_editors(tenant=plan.tenant).exclude(email="").order_by("username"))


def rehearsal_mapping(*, tenant: Tenant) -> BcpMapping | None:
    """The pair a rehearsal would use: the tenant must be its primary, and the primary must be active."""
    return (BcpMapping.objects.select_related("primary", "secondary")
            .filter(primary=tenant, active_side=BcpMapping.Side.PRIMARY).first())


# --- a rehearsal's or a real switch's report, as a reader sees it -----------------------------------------

CHECK_LABELS = {
    "mapping": _("Mapping valid"),
    "passkey": _("Passkey set"),
    "sync_enabled": _("Sync enabled"),
    "sync_fresh": _("Last sync in time"),
    "sync_idle": _("No sync running"),
    "switch_back": _("Someone can switch back"),
    "users": _("Users copied"),
}


def describe_seconds(seconds) -> str:
    """A duration as people say it: "1.4 s", "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h"."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return _("%(seconds)s s") % {"seconds": number_format(seconds, 1)}
    whole = int(round(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if whole < 120:
        return _("%(seconds)s s") % {"seconds": whole}
    if hours == 0 and days == 0:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": secs}
    if days == 0:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


def _when(iso):
    return datetime.fromisoformat(iso) if iso else None


def _finding(finding: dict) -> str:
    code = finding.get("code")
    if code == "check_failed":
        label = CHECK_LABELS.get(finding.get("key"), finding.get("key"))
        return _("Readiness check not met (%(check)s): %(text)s") % {"check": label, "text": finding.get("text", "")}
    if code == "sync_not_started":
        return _("No sync could be started: %(text)s") % {"text": finding.get("text", "")}
    if code == "sync_already_running":
        return _("A sync was already running, so the rehearsal waited for that one instead of starting its own.")
    if code == "sync_timeout":
        return _("The sync did not finish within %(minutes)d minutes.") % {"minutes": finding.get("minutes", 10)}
    if code == "sync_failed":
        count = finding.get("errors", 0)
        return ngettext("The sync failed, with %(count)d error: see the sync run.",
                        "The sync failed, with %(count)d errors: see the sync run.", count) % {"count": count}
    if code == "sync_skipped":
        return _("The sync was skipped: %(reason)s") % {"reason": skip_text(finding.get("reason", ""))}
    if code == "switch_refused":
        return _("The switch would have been refused: %(text)s") % {"text": finding.get("text", "")}
    if code == "no_sign_in":
        return _("Nobody signed in on the BCP tenant before the switch back.")
    if code == "forced":
        labels = ", ".join(str(CHECK_LABELS.get(key, key)) for key in finding.get("checks", []))
        return _("The switch was made anyway, with these checks not met: %(checks)s. Reason given: “%(reason)s”.") % {
            "checks": labels, "reason": finding.get("reason", "")}
    return code or ""


def _who(name: str, acting_as: str) -> str:
    if acting_as:
        return _("%(name)s (%(acting_as)s)") % {"name": name, "acting_as": acting_as}
    return name or _("system")


def report_of(drill: Drill) -> dict | None:
    """What a rehearsal or a real switch measured, in sentences of the reader's language; None for the other
    kinds, whose record is what people wrote."""
    report = drill.report or {}
    if drill.kind == Drill.Kind.REHEARSAL and report:
        sync = report.get("sync") or {}
        switch = report.get("switch") or {}
        status = sync.get("status")
        return {
            "kind": "rehearsal",
            "pending": drill.outcome == Drill.Outcome.PENDING,
            "bcp": report.get("bcp", ""),
            "started_at": _when(report.get("started_at")),
            "completed_at": _when(report.get("completed_at")),
            "checks": [{"key": c["key"], "label": CHECK_LABELS.get(c["key"], c["key"]), "ok": c["ok"],
                        "text": c["text"]} for c in report.get("checks", [])],
            "rpo_before": describe_seconds(report.get("rpo_before_seconds")),
            "never_synced": report.get("rpo_before_seconds") is None,
            "rpo_after": describe_seconds(report.get("rpo_after_seconds")),
            "switch_ms": number_format(switch["ms"], 0) if "ms" in switch else None,
            "switch_refused": switch.get("refused", ""),
            "sync_run_id": sync.get("run_id"),
            "sync_status": status,
            "sync_status_label": SyncRun.Status(status).label if status in SyncRun.Status.values else "",
            "sync_duration": describe_seconds(sync.get("duration_seconds")),
            "sync_totals": sync.get("totals") or {},
            "findings": [_finding(f) for f in report.get("findings", [])],
        }
    if drill.kind == Drill.Kind.SWITCH and report:
        return {
            "kind": "switch",
            "bcp": report.get("bcp", ""),
            "switched_at": _when(report.get("switched_at")),
            "switched_by": _who(report.get("switched_by", ""), report.get("switched_acting_as", "")),
            "on_behalf": report.get("on_behalf", False),
            "first_sign_in_at": _when(report.get("first_sign_in_at")),
            "first_sign_in_by": report.get("first_sign_in_by", ""),
            "to_first_sign_in": describe_seconds(report.get("seconds_to_first_sign_in")),
            "reverted_at": _when(report.get("reverted_at")),
            "reverted_by": _who(report.get("reverted_by", ""), report.get("reverted_acting_as", "")),
            "on_bcp": describe_seconds(report.get("seconds_on_bcp")),
            "forced": report.get("forced", False),
            "reason": report.get("reason", ""),
            "findings": [_finding(f) for f in report.get("findings", [])],
        }
    return None


def primary_of(*, tenant: Tenant) -> str | None:
    """On a BCP tenant, the name of its primary, where the plan's settings live; None elsewhere."""
    return BcpMapping.objects.filter(secondary=tenant).values_list("primary__name", flat=True).first()
