"""Where each table lives and which region a query is for (docs/architecture.md, "Where data lives").

The control plane (`default`) holds identity and access; each region's database (its alias is the region's
code) holds its tenants' data. Code names the region it works in with `in_region(...)` (the middleware does it
for a request, tasks from their arguments), or by filtering on a tenant, or by working on an object that already
says where it lives; the router (bcp_project.routers) reads those in that order. A region model read with none
of them is a bug, and says so (RegionUnknown), rather than quietly reading another region.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.apps import apps
from django.conf import settings

from ..exceptions import ApplicationError

CONTROL = "default"

# Where each app's tables live. A model listed in REGION_MODELS overrides its app; "audit" lives everywhere: a row
# is written in the database of the change it records, so that the two commit together.
CONTROL_APPS = {"auth", "contenttypes", "sessions", "admin", "guardian", "axes", "bcp_project", "tenants",
                "accounts", "status", "enablement"}
REGION_APPS = {"contactcenter", "continuity"}
EVERYWHERE_APPS = {"audit"}
# sync: the configuration is control plane (the dispatcher reads it without any region); the runs, the
# correlations and the fence live in the backup's region, so that they survive the loss of the primary's.
REGION_MODELS = {"sync.syncrun", "sync.correlation", "sync.fence"}
# The sync's change log is in every database: its triggers write it in the database of the change.
EVERYWHERE_MODELS = {"sync.change"}

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("bcp_region", default=None)


class RegionUnknown(RuntimeError):
    """A region table was queried without saying for which region: a programming error."""


class RegionUnavailable(ApplicationError):
    """A region's database does not answer (or is known not to): the message names the region."""

    def __init__(self, alias: str, message: str | None = None):
        from django.utils.translation import gettext as _

        self.alias = alias
        super().__init__(message or _("The database of region %(region)s is not answering. Its tenants' data "
                                      "cannot be read or changed until it is back.") % {"region": region_label(alias)})


def region_label(alias: str) -> str:
    """The region's name from the directory, or its code when the control plane cannot say."""
    try:
        Region = apps.get_model("tenants", "Region")
        name = Region.objects.using(CONTROL).filter(code=alias).values_list("name", flat=True).first()
    except Exception:  # noqa: BLE001 - a label must never fail the message it is part of
        name = None
    return str(name or alias)


def aliases() -> list[str]:
    return list(settings.REGION_DATABASES)


def placement(app_label: str, model_name: str | None) -> str:
    """"control", "region" or "everywhere" for a model (or an app when model_name is None)."""
    if model_name and f"{app_label}.{model_name}" in REGION_MODELS:
        return "region"
    if model_name and f"{app_label}.{model_name}" in EVERYWHERE_MODELS:
        return "everywhere"
    if app_label in REGION_APPS:
        return "region"
    if app_label in EVERYWHERE_APPS:
        return "everywhere"
    return "control"


def model_placement(model) -> str:
    return placement(model._meta.app_label, model._meta.model_name)


# --- which region ------------------------------------------------------------------------------------------

_tenant_regions: dict[str, str] = {}


def alias_for_tenant(tenant) -> str:
    """The database alias of a tenant's region, for a Tenant or its id. A tenant never changes region, so the
    answer is kept for the life of the process."""
    if tenant is None:
        raise RegionUnknown("no tenant")
    Tenant = apps.get_model("tenants", "Tenant")
    if isinstance(tenant, Tenant):
        if "region" in tenant._state.fields_cache:
            code = tenant.region.code
            _tenant_regions[str(tenant.pk)] = code
            return code
        tenant = tenant.pk
    key = str(tenant)
    code = _tenant_regions.get(key)
    if code is None:
        code = (Tenant.objects.using(CONTROL).filter(pk=tenant).values_list("region__code", flat=True).first())
        if code is None:
            raise RegionUnknown(f"tenant {key} is not in the directory")
        _tenant_regions[key] = code
    return code


def alias_for_mapping(mapping) -> str:
    """A BCP pair's runs, correlations and fence live in the backup's region."""
    BcpMapping = apps.get_model("tenants", "BcpMapping")
    if isinstance(mapping, BcpMapping):
        return alias_for_tenant(mapping.secondary_id)
    secondary = BcpMapping.objects.using(CONTROL).filter(pk=mapping).values_list("secondary_id", flat=True).first()
    if secondary is None:
        raise RegionUnknown(f"BCP pair {mapping} is not in the directory")
    return alias_for_tenant(secondary)


def current() -> str | None:
    return _current.get()


@contextlib.contextmanager
def in_region(where) -> Iterator[str]:
    """Queries without a tenant of their own go to this region inside the block: `where` is an alias (a region
    code), a Tenant or a tenant id."""
    alias = where if isinstance(where, str) and where in settings.DATABASES else alias_for_tenant(where)
    token = _current.set(alias)
    try:
        yield alias
    finally:
        _current.reset(token)


def set_current(alias: str | None) -> contextvars.Token:
    return _current.set(alias)


def reset_current(token: contextvars.Token) -> None:
    _current.reset(token)
