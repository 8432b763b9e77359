from datetime import UTC, date, datetime, time, timedelta

from django.db import DatabaseError
from django.db.models import Q, QuerySet

from bcp_project import regions
from bcp_project.permissions import is_account_representative
from bcp_project.regions import CONTROL, RegionUnavailable

from .models import AuditEvent


class EventsEverywhere:
    """The audit rows of one query in every database (the control plane and each region's), newest first, as a
    sequence a Paginator pages through: a page costs one count and one read per database. A database that does
    not answer is left out and named in `unavailable`."""

    def __init__(self, queryset: QuerySet[AuditEvent], aliases: list[str]):
        self.queryset = queryset
        self.aliases = aliases
        self.unavailable: list[str] = []
        self._counts: dict[str, int] | None = None

    def _each(self, read):
        results = {}
        for alias in self.aliases:
            if alias in self.unavailable:
                continue
            try:
                results[alias] = read(self.queryset.using(alias))
            except (DatabaseError, RegionUnavailable):
                self.unavailable.append(alias)
        return results

    @property
    def unavailable_labels(self) -> list[str]:
        return [regions.region_label(alias) for alias in self.unavailable]

    def none(self):
        return EventsEverywhere(self.queryset.none(), self.aliases)

    def count(self) -> int:
        if self._counts is None:
            self._counts = self._each(lambda qs: qs.count())
        return sum(self._counts.values())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, int):
            return self[index:index + 1][0]
        start, stop = index.start or 0, index.stop
        if stop is None:
            stop = self.count()
        rows = [row for chunk in self._each(lambda qs: list(qs.order_by("-created_at", "-id")[:stop])).values()
                for row in chunk]
        rows.sort(key=lambda row: (row.created_at, row.pk), reverse=True)
        return rows[start:stop]


def audit_event_list(*, user, actor: str = "", action: str = "", tenant: str = "",
                     day_from: date | None = None, day_to: date | None = None) -> EventsEverywhere:
    """What the TM audit log shows: every database's rows (audit rows live with the change they record)."""
    if not is_account_representative(user):
        return EventsEverywhere(AuditEvent.objects.none(), [])
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
    return EventsEverywhere(qs, [CONTROL, *regions.aliases()])
