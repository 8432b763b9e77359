"""The HTTP side of routing (routing.py decides): a session whose BCP pair has switched since it signed in goes to
the sign-in page with the reason, and a representative's Impersonate & Support of the side that became inactive
ends with a message. Also the sign-in receiver that makes a session remember its route."""

from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from tenants.middleware import NOTICE_KEY
from tenants.support.selectors import EndReason
from tenants.support.services import impersonation_end

from . import notices, routing

SWITCHED = "switched"


def remember_route(sender, request, user, **kwargs) -> None:
    """user_logged_in: the pair and epoch this session belongs to; the notice of the pair's last switch when this
    account has not seen it yet."""
    if request is None:
        return
    request.session.pop(notices.SIGNED_OUT_KEY, None)
    if getattr(user, "tenant_id", None) is not None:
        mapping_id, epoch, _side = routing.session_remember(request.session, tenant_id=user.tenant_id)
        if mapping_id is not None and epoch:
            notices.switch_notice_claim(request.session, user=user, mapping_id=mapping_id, epoch=epoch)


def signed_out_by_switch(request, *, mapping_id) -> None:
    """Sign the session out because its pair switched; the new, anonymous session remembers the pair for the
    sign-in page (the tenant people land on now, the pair's message)."""
    logout(request)
    if mapping_id is not None:
        notices.signed_out_remember(request.session, mapping_id=mapping_id)


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
        if (user is not None and user.is_authenticated and user.tenant_id is not None
                and not routing.session_is_current(request.session, tenant_id=user.tenant_id)):
            signed_out_by_switch(request, mapping_id=request.session[routing.ROUTE_KEY][0])
            return _to_sign_in(request)
        impersonation = getattr(request, "impersonation", None)
        if impersonation is not None and not routing.impersonation_is_current(request.session,
                                                                              tenant=impersonation.tenant):
            impersonation_end(request=request, reason=EndReason.SWITCHED)
            request.session[NOTICE_KEY] = {"reason": EndReason.SWITCHED, "tenant": impersonation.tenant.name}
        return self.get_response(request)
