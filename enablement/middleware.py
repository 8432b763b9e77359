"""Every session remembers the BCP pair and routing epoch it signed in under. After a switch the epoch has moved
on, and the session's next request goes to the sign-in page with the reason: one cached read per request,
however many sessions there are. A representative's Impersonate & Support of the side that became inactive
ends the same way."""

import time
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from tenants.middleware import NOTICE_KEY
from tenants.models import BcpMapping, BcpMembership
from tenants.support.selectors import EndReason
from tenants.support.services import impersonation_end

from .services import routing_epoch

ROUTE_KEY = "bcp_route"  # [mapping id, routing epoch, side] of the signed-in user's own tenant
SIDE_KEY = "bcp_side"  # "secondary" on a BCP tenant: every page says it is the backup system
IMPERSONATION_ROUTE_KEY = "bcp_impersonation_route"  # [tenant id, mapping id, routing epoch]
SWITCHED = "switched"


def _route_of(tenant_id) -> list | None:
    """[mapping id, routing epoch, side of this tenant] of the tenant's pair, or None."""
    row = (BcpMembership.objects.filter(tenant_id=tenant_id)
           .values_list("mapping_id", "mapping__routing_epoch", "side").first())
    return list(row) if row else None


# A session of a tenant without a pair looks again this often, in case the tenant has been mapped since.
UNPAIRED_RECHECK_SECONDS = 60


def _remember(session, tenant_id) -> list:
    route = _route_of(tenant_id) or [None, int(time.time()), None]
    session[ROUTE_KEY] = route
    session[SIDE_KEY] = route[2]
    return route


def remember_route(sender, request, user, **kwargs) -> None:
    """user_logged_in: the pair and epoch this session belongs to."""
    if request is not None and getattr(user, "tenant_id", None) is not None:
        _remember(request.session, user.tenant_id)


def _to_sign_in(request):
    url = f"{reverse('accounts:login')}?{urlencode({'reason': SWITCHED, 'next': request.get_full_path()})}"
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url  # htmx loads the whole sign-in page, not a fragment of it
        return response
    return redirect(url)


class RoutingEpochMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.tenant_id is not None:
            route = request.session.get(ROUTE_KEY)
            if route is None or (route[0] is None and time.time() - route[1] > UNPAIRED_RECHECK_SECONDS):
                route = _remember(request.session, user.tenant_id)  # signed in before routing, or unpaired
            elif route[0] is not None and routing_epoch(mapping_id=route[0]) != route[1]:
                logout(request)
                return _to_sign_in(request)
        impersonation = getattr(request, "impersonation", None)
        if impersonation is not None:
            self._check_impersonation(request, impersonation)
        return self.get_response(request)

    @staticmethod
    def _check_impersonation(request, impersonation) -> None:
        tenant_id = str(impersonation.tenant.pk)
        seen = request.session.get(IMPERSONATION_ROUTE_KEY)
        if not seen or seen[0] != tenant_id:
            route = _route_of(impersonation.tenant.pk)
            request.session[IMPERSONATION_ROUTE_KEY] = [tenant_id, *route[:2]] if route else [tenant_id, None, None]
            return
        _tenant, mapping_id, epoch = seen
        if mapping_id is None or routing_epoch(mapping_id=mapping_id) == epoch:
            return
        mapping = BcpMapping.objects.filter(pk=mapping_id).first()
        now_active = mapping is None or mapping.side_of(impersonation.tenant) == mapping.active_side
        if now_active:
            epoch = mapping.routing_epoch if mapping else None
            request.session[IMPERSONATION_ROUTE_KEY] = [tenant_id, mapping_id, epoch]
            return
        impersonation_end(request=request, reason=EndReason.SWITCHED)
        request.session.pop(IMPERSONATION_ROUTE_KEY, None)
        request.session[NOTICE_KEY] = {"reason": EndReason.SWITCHED, "tenant": impersonation.tenant.name}
