"""Reads for plan validation: the drill schedule, the drills, their follow-up actions, the pair a rehearsal uses.
Another tenant's drill or action is a 404."""

import calendar
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping, Tenant

from ..models import Drill, FollowUpAction, Plan


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
    return (Drill.objects.filter(tenant=tenant).prefetch_related("recorded_by")
            .annotate(open_actions=Count("actions", filter=Q(actions__done_on__isnull=True)))
            .order_by("-held_on", "-id"))


def drill_get(*, tenant: Tenant, pk: int) -> Drill:
    """One drill of the tenant; another tenant's is a 404."""
    return get_object_or_404(Drill.objects.prefetch_related("recorded_by", "switch_event"), tenant=tenant, pk=pk)


def open_actions(*, tenant: Tenant):
    """Follow-up actions not done yet, soonest due first, with their owner and drill."""
    return (FollowUpAction.objects.filter(tenant=tenant, done_on__isnull=True)
            .select_related("drill").prefetch_related("owner").order_by("due_on", "id"))


def drill_actions(*, drill: Drill):
    return drill.actions.prefetch_related("owner").order_by("done_on", "due_on", "id")


def action_get(*, tenant: Tenant, pk: int) -> FollowUpAction:
    return get_object_or_404(FollowUpAction.objects.select_related("drill").prefetch_related("owner"),
                             tenant=tenant, pk=pk)


def rehearsal_mapping(*, tenant: Tenant) -> BcpMapping | None:
    """The pair a rehearsal would use: the tenant must be its primary, and the primary must be active."""
    mapping = mapping_for_tenant(tenant=tenant, side=BcpMapping.Side.PRIMARY)
    return mapping if mapping is not None and mapping.active_side == BcpMapping.Side.PRIMARY else None
