"""A page that meets a region that does not answer (bcp_project.regions.RegionUnavailable) answers 503 with a page
that names the region and says since when, rather than a 500."""

import logging

from django.apps import apps
from django.db.models import Q
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from ..htmx import is_partial
from ..permissions import CHANGE_BCP_ENABLEMENT
from . import CONTROL, RegionUnavailable, alias_for_tenant, health, region_label

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class RegionUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, RegionUnavailable):
            return None
        return region_unavailable_response(request, alias=exception.alias)


def _pair_context(request, alias: str) -> dict:
    """What the page can say for certain of the person's own tenant when it is kept in the region that is down:
    whether it has a BCP tenant (and which), and whether this person may switch to it on BC Enablement. One read
    of the control plane, only on this page. By model name: the tenants app is above this shared code."""
    nav = getattr(request, "nav", None)
    tenant = nav.tenant if nav is not None else None
    if tenant is None:
        return {}
    try:
        own = alias_for_tenant(tenant) == alias
        mapping = (apps.get_model("tenants", "BcpMapping").objects.using(CONTROL)
                   .filter(Q(primary=tenant) | Q(secondary=tenant))
                   .select_related("primary__region", "secondary__region").first()) if own else None
    except Exception:  # noqa: BLE001 - the page must not fail because the control plane did not say
        logger.warning("region page: could not read the pair of tenant %s", tenant.pk, exc_info=True)
        return {}
    return {"own_region": own, "has_pair": mapping is not None,
            "bcp_tenant": mapping.secondary if mapping is not None and mapping.primary_id == tenant.pk else None,
            "can_switch": nav.has(CHANGE_BCP_ENABLEMENT)}


def region_unavailable_response(request, *, alias: str):
    # The view's transactions are over: a mark made inside one can be written now.
    health.flush_pending()
    try:
        since = health.state(alias).down_since
    except Exception:  # noqa: BLE001 - the page must not fail because the control plane did not say
        since = None
    logger.warning("region %s is not answering: %s %s answered 503", alias, request.method, request.path)
    response = render(request, "errors/region_unavailable.html",
                      {"region": region_label(alias), "alias": alias, "since": since, **_pair_context(request, alias)},
                      status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    if is_partial(request):
        # htmx does not swap a 503 into the page: reload it, so that this page is what the person sees.
        response["HX-Refresh"] = "true"
    return response
