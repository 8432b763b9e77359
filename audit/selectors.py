from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from bcp_project.permissions import is_account_representative

from .models import AuditEvent


def audit_event_list(*, user, actor: str = "", action: str = "", tenant: str = "",
                     day_from: date | None = None, day_to: date | None = None) -> QuerySet[AuditEvent]:
    if not is_account_representative(user):
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.all()
    if actor:
        # A failed sign-in has no actor, only the username that was tried: "who" finds it too.
        qs = qs.filter(Q(actor_name__icontains=actor) | Q(changes__username__icontains=actor))
    if action:
        qs = qs.filter(action__startswith=action)
    if tenant:
        qs = qs.filter(tenant_name__icontains=tenant)
    if day_from:
        qs = qs.filter(created_at__gte=datetime.combine(day_from, time.min, tzinfo=UTC))
    if day_to and day_to < date.max:  # "to 31 December 9999" has no day after it: it is no upper bound at all
        qs = qs.filter(created_at__lt=datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=UTC))
    return qs
