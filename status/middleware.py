"""While a tenant is in outage, its users see an outage page instead of their pages.

The check runs in process_view, where the URL is resolved, and costs one indexed query (the signed-in user's
tenant and its region); only during an outage does it ask more (the user's permissions). Account
representatives have no tenant and are never held up, also while they support one.

The continuity plan's reading pages stay open to everyone in the tenant: its emergency contacts and activation
triggers are what an outage needs. They find the outage as `request.platform_outage` (an EffectiveStatus; absent
otherwise) and offer no editing while it lasts.
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers

from accounts.roles import CHANGE_BCP_ENABLEMENT
from bcp_project.htmx import is_partial
from tenants.bcp.selectors import mapping_for_tenant

from .selectors import effective_status_by_tenant_id

# Pages that stay open during an outage: signing out, choosing status alerts, and the monitoring endpoint.
OPEN_VIEWS = frozenset({"accounts:logout", "status:alerts", "healthz"})
# The plan, its print view and its PDF: read during an outage (by URL name: continuity is above this app).
PLAN_VIEWS = frozenset({"continuity:plan", "continuity:print", "continuity:pdf"})
# BC Enablement, for those who may switch: by its URL namespace, or by its path while it is not routed yet.
BC_ENABLEMENT_NAMESPACE = "enablement"
BC_ENABLEMENT_PATH = "/admin/bc-enablement/"
RETRY_AFTER_SECONDS = 300


def _is_bc_enablement(request) -> bool:
    match = request.resolver_match
    return (match is not None and match.namespace == BC_ENABLEMENT_NAMESPACE) or \
        request.path_info.startswith(BC_ENABLEMENT_PATH)


def bc_enablement_url() -> str:
    try:
        return reverse(f"{BC_ENABLEMENT_NAMESPACE}:page")
    except NoReverseMatch:
        return BC_ENABLEMENT_PATH


class OutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.tenant_id is None:
            return None
        match = request.resolver_match
        if (match is not None and match.view_name in OPEN_VIEWS) or request.path.startswith(settings.STATIC_URL):
            return None
        status = effective_status_by_tenant_id(tenant_id=user.tenant_id)
        request.platform_status = status  # the banner reads it (status.context_processors): no second query
        if not status.is_outage:
            return None
        if match is not None and match.view_name in PLAN_VIEWS:
            request.platform_outage = status
            return None
        can_switch = request.nav.has(CHANGE_BCP_ENABLEMENT)
        if can_switch and _is_bc_enablement(request):
            return None
        return outage_response(request, status=status, can_switch=can_switch)


def outage_response(request, *, status, can_switch: bool):
    # Said for certain: whether the person's tenant has a BCP tenant to switch to (one read, only on this page).
    tenant = request.user.tenant
    mapping = mapping_for_tenant(tenant=tenant)
    request.outage_page = True  # the page says it all: no outage banner above it
    context = {"status": status, "can_switch": can_switch, "bc_enablement_url": bc_enablement_url(),
               "tenant": tenant, "has_pair": mapping is not None,
               "bcp_tenant": mapping.secondary if mapping is not None and mapping.primary_id == tenant.pk else None}
    response = render(request, "status/outage.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    if is_partial(request):
        # htmx does not swap a 503 into the page: reload it, so the outage page is what the person sees.
        response["HX-Refresh"] = "true"
    return response
