"""Region tables read the region of the tenant (or BCP pair) they are filtered by, so that
`Team.objects.filter(tenant=tenant)` needs nothing more."""

from django.db import models

from . import alias_for_mapping, alias_for_tenant

_TENANT_KEYS = ("tenant", "tenant_id", "tenant__pk", "tenant__id")
_MAPPING_KEYS = ("mapping", "mapping_id", "mapping__pk", "mapping__id")


def _alias_from_filter(kwargs) -> str | None:
    for key in _TENANT_KEYS:
        if kwargs.get(key) is not None:
            return alias_for_tenant(kwargs[key])
    for key in _MAPPING_KEYS:
        if kwargs.get(key) is not None:
            return alias_for_mapping(kwargs[key])
    return None


class RegionQuerySet(models.QuerySet):
    def _filter_or_exclude(self, negate, args, kwargs):
        clone = super()._filter_or_exclude(negate, args, kwargs)
        if clone._db is None and not negate:
            alias = _alias_from_filter(kwargs)
            if alias is not None:
                clone._db = alias
        return clone


    def _routed_by(self, values: dict):
        if self._db is not None:
            return self
        alias = _alias_from_filter(values)
        return self.using(alias) if alias is not None else self

    def create(self, **kwargs):
        qs = self._routed_by(kwargs)
        return super(RegionQuerySet, qs).create(**kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        qs = self
        if self._db is None and objs:
            first = objs[0]
            qs = self._routed_by({"tenant_id": getattr(first, "tenant_id", None),
                                  "mapping_id": getattr(first, "mapping_id", None)})
        return super(RegionQuerySet, qs).bulk_create(objs, *args, **kwargs)


RegionManager = models.Manager.from_queryset(RegionQuerySet)
