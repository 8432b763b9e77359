"""A page that meets a region that does not answer (bcp_project.regions.RegionUnavailable) answers 503 with a page
that names the region and says since when, rather than a 500."""

import logging

from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from ..htmx import is_partial
from . import RegionUnavailable, health, region_label

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


def region_unavailable_response(request, *, alias: str):
    # The view's transactions are over: a mark made inside one can be written now.
    health.flush_pending()
    try:
        since = health.state(alias).down_since
    except Exception:  # noqa: BLE001 - the page must not fail because the control plane did not say
        since = None
    logger.warning("region %s is not answering: %s %s answered 503", alias, request.method, request.path)
    response = render(request, "errors/region_unavailable.html",
                      {"region": region_label(alias), "alias": alias, "since": since}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    if is_partial(request):
        # htmx does not swap a 503 into the page: reload it, so that this page is what the person sees.
        response["HX-Refresh"] = "true"
    return response
