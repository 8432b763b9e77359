"""The audit log as a test reads it: rows live in the database of the change they record (the control plane or a
region's), so a test asks every database at once, as the TM audit log does."""

from django.conf import settings

from audit.models import AuditEvent


class AuditEvents:
    """A small, read-only QuerySet over every database: filter/exclude/order_by chain; the rest reads."""

    def __init__(self, querysets=None):
        self.querysets = querysets if querysets is not None else [
            AuditEvent.objects.using(alias).all() for alias in ["default", *settings.REGION_DATABASES]]

    def _map(self, method, *args, **kwargs):
        return AuditEvents([getattr(qs, method)(*args, **kwargs) for qs in self.querysets])

    def filter(self, *args, **kwargs):
        return self._map("filter", *args, **kwargs)

    def exclude(self, *args, **kwargs):
        return self._map("exclude", *args, **kwargs)

    def order_by(self, *fields):
        return self._map("order_by", *fields)

    def _rows(self):
        rows = [row for qs in self.querysets for row in qs]
        ordering = self.querysets[0].query.order_by or AuditEvent._meta.ordering
        for field in reversed(ordering):
            name = field.lstrip("-")
            rows.sort(key=lambda row, name=name: getattr(row, "pk" if name == "id" else name),
                      reverse=field.startswith("-"))
        return rows

    def __iter__(self):
        return iter(self._rows())

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        return self._rows()[index]

    def count(self) -> int:
        return sum(qs.count() for qs in self.querysets)

    def exists(self) -> bool:
        return any(qs.exists() for qs in self.querysets)

    def first(self):
        rows = self._rows()
        return rows[0] if rows else None

    def last(self):
        rows = self._rows()
        return rows[-1] if rows else None

    def latest(self, field="created_at"):
        rows = sorted(self._rows(), key=lambda row: (getattr(row, field), row.pk))
        if not rows:
            raise AuditEvent.DoesNotExist("no audit event matches")
        return rows[-1]

    def get(self, *args, **kwargs):
        rows = list(self.filter(*args, **kwargs)) if args or kwargs else self._rows()
        if not rows:
            raise AuditEvent.DoesNotExist(f"no audit event matches {kwargs}")
        if len(rows) > 1:
            raise AuditEvent.MultipleObjectsReturned(f"{len(rows)} audit events match {kwargs}")
        return rows[0]

    def values_list(self, *fields, flat=False):
        rows = self._rows()
        if flat:
            return [getattr(row, fields[0]) for row in rows]
        return [tuple(getattr(row, f) for f in fields) for row in rows]

    def values(self, *fields):
        return [{f: getattr(row, f) for f in fields} for row in self._rows()]

    def all(self):
        return self

    def update(self, **values) -> int:
        return sum(qs.update(**values) for qs in self.querysets)

    def delete(self) -> int:
        return sum(qs.delete()[0] for qs in self.querysets)


def audit_events() -> AuditEvents:
    return AuditEvents()
