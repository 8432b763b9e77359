"""The database router: control-plane tables to `default`, region tables to the region they are for
(bcp_project.regions says how that is decided), audit rows to the database of the change they record."""

from django.apps import apps

from . import regions
from .regions import CONTROL, RegionUnknown, health


def _alias_from_instance(instance) -> str | None:
    if instance is None:
        return None
    db = instance._state.db
    if db and regions.model_placement(instance.__class__) != "control":
        return db
    Tenant = apps.get_model("tenants", "Tenant")
    BcpMapping = apps.get_model("tenants", "BcpMapping")
    if isinstance(instance, Tenant):
        return regions.alias_for_tenant(instance)
    if isinstance(instance, BcpMapping):
        return regions.alias_for_mapping(instance)
    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None:
        return regions.alias_for_tenant(tenant_id)
    mapping_id = getattr(instance, "mapping_id", None)
    if mapping_id is not None:
        mapping = instance._state.fields_cache.get("mapping")
        return regions.alias_for_mapping(mapping if mapping is not None else mapping_id)
    return None


class RegionRouter:
    def _route(self, model, hints):
        place = regions.model_placement(model)
        if place == "control":
            return CONTROL
        instance = hints.get("instance")
        if place == "everywhere":
            # An audit row is where it was written (using=...); a new one without that, in the control plane.
            same = instance is not None and isinstance(instance, model) and instance._state.db
            return instance._state.db if same else CONTROL
        alias = _alias_from_instance(instance)
        if alias is None:
            alias = regions.current()
        if alias is None:
            raise RegionUnknown(f"{model._meta.label} queried without a region: filter by tenant, use using(), or "
                                "wrap the code in bcp_project.regions.in_region(...)")
        # A region known to be down is not touched (the region backends refuse explicit using() the same way).
        health.ensure_answering(alias)
        return alias

    def db_for_read(self, model, **hints):
        return self._route(model, hints)

    def db_for_write(self, model, **hints):
        return self._route(model, hints)

    def allow_relation(self, obj1, obj2, **hints):
        # References between the control plane and a region are plain ids (no database constraint).
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if hints.get("control_plane"):
            return db == CONTROL
        place = regions.placement(app_label, model_name)
        if place == "everywhere":
            return True
        if place == "region":
            return db != CONTROL
        return db == CONTROL
