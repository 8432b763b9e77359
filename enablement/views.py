"""Admin → BC Enablement (BCP Tenant Enablement View to look, Edit to switch), and the same panel in TM for an
account representative acting on the customer's behalf."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import CHANGE_BCP_ENABLEMENT, VIEW_BCP_CONFIGURATIONS, VIEW_BCP_ENABLEMENT
from audit.services import Actor
from bcp_project.access import admin_required, tm_required
from tenants.models import BcpMapping, Tenant

from . import notices, selectors, services
from .forms import PairMessageForm, SwitchForm
from .middleware import signed_out_by_switch

guard = admin_required(VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT)


def _context(request, tenant, mapping, form=None, **extra) -> dict:
    state = selectors.readiness(mapping=mapping) if mapping is not None else None
    active = None
    if mapping is not None:
        active = mapping.active_tenant
        if form is None:
            form = SwitchForm(initial={"bcp_active": mapping.active_side == BcpMapping.Side.SECONDARY})
    return {"tenant": tenant, "mapping": mapping, "state": state, "active": active, "form": form,
            "is_bcp_side": mapping is not None and mapping.secondary_id == tenant.pk,
            "regions_down": selectors.pair_regions_down(mapping=mapping) if mapping is not None else [], **extra}


def _page_context(request, tenant, mapping, **extra) -> dict:
    """The Admin page's context: the panel, and the pair's message with its form for who may change it."""
    can_change = request.nav.has(CHANGE_BCP_ENABLEMENT)
    message = notices.pair_message_get(mapping_id=mapping.pk) if mapping is not None else {}
    if can_change and mapping is not None and "message_form" not in extra:
        extra["message_form"] = PairMessageForm(initial={"text": message.get("text", "")})
    return _context(request, tenant, mapping, can_change=can_change,
                    can_see_sync=request.nav.has(VIEW_BCP_CONFIGURATIONS), pair_message=message, **extra)


def _switch(request, *, tenant, mapping, on_behalf: bool):
    """Validates the form and switches; returns (form, status) when the page must be shown again, or the
    SwitchResult."""
    form = SwitchForm(request.POST)
    if not form.is_valid():
        return form, 400
    data = form.cleaned_data
    to_side = BcpMapping.Side.SECONDARY if data["bcp_active"] else BcpMapping.Side.PRIMARY
    try:
        result = services.tenant_switch(mapping=mapping, to_side=to_side, passkey=data["passkey"],
                                        actor=Actor.from_request(request), force=data["force"],
                                        reason=data["reason"], on_behalf=on_behalf)
    except services.PasskeyThrottled as exc:
        form.add_error("passkey", exc.message)
        return form, 429
    except services.EnablementError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return form, 409 if isinstance(exc, services.SwitchRefused | services.NeedsReason) else 400
    return result


def _done_message(mapping: BcpMapping) -> str:
    if mapping.active_side == BcpMapping.Side.SECONDARY:
        return _("The BCP tenant “%(bcp)s” is active now. Everyone has been signed out; when they sign in again, "
                 "with the same username and password, they land on “%(bcp)s”.") % {"bcp": mapping.secondary.name}
    return _("The primary tenant “%(primary)s” is active again. Everyone has been signed out; when they sign in "
             "again they land on “%(primary)s”.") % {"primary": mapping.primary.name}


def _unchanged_message(mapping: BcpMapping) -> str:
    return _("“%(tenant)s” is already the active tenant, so nothing changed and nobody was signed out.") % {
        "tenant": mapping.active_tenant.name}


@guard
@require_GET
def page(request, *, tenant):
    mapping = selectors.mapping_of(tenant=tenant)
    return render(request, "enablement/page.html", _page_context(request, tenant, mapping))


@guard
@require_POST
def switch(request, *, tenant):
    mapping = selectors.mapping_of(tenant=tenant)
    if mapping is None:
        raise Http404
    outcome = _switch(request, tenant=tenant, mapping=mapping, on_behalf=False)
    if isinstance(outcome, tuple):
        form, status = outcome
        return render(request, "enablement/page.html", _page_context(request, tenant, mapping, form=form),
                      status=status)
    if not outcome.changed:
        messages.info(request, _unchanged_message(outcome.mapping))
        return redirect("enablement:page")
    # This session belongs to the side that is no longer active, like everyone else's: sign in again.
    signed_out_by_switch(request, mapping_id=outcome.mapping.pk)
    messages.success(request, _done_message(outcome.mapping))
    return redirect(reverse("accounts:login"))


def _pair_or_404(tenant) -> BcpMapping:
    mapping = selectors.mapping_of(tenant=tenant)
    if mapping is None:
        raise Http404
    return mapping


@guard
@require_POST
def message_set(request, *, tenant):
    """Writes the message for everyone in the pair (BCP Tenant Enablement Edit, on either tenant)."""
    mapping = _pair_or_404(tenant)
    if not request.nav.has(CHANGE_BCP_ENABLEMENT):
        raise PermissionDenied
    form = PairMessageForm(request.POST)
    if form.is_valid():
        try:
            notices.pair_message_set(mapping=mapping, text=form.cleaned_data["text"],
                                     actor=Actor.from_request(request), tenant=tenant)
        except notices.PairMessageError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The message is saved. Everyone in “%(primary)s” and “%(bcp)s” sees it on "
                                        "every page until you remove it.")
                             % {"primary": mapping.primary.name, "bcp": mapping.secondary.name})
            return redirect("enablement:page")
    return render(request, "enablement/page.html", _page_context(request, tenant, mapping, message_form=form),
                  status=400)


@guard
@require_http_methods(["GET", "POST"])
def message_remove(request, *, tenant):
    """Asks first, then removes the pair's message."""
    mapping = _pair_or_404(tenant)
    if not request.nav.has(CHANGE_BCP_ENABLEMENT):
        raise PermissionDenied
    message = notices.pair_message_get(mapping_id=mapping.pk)
    if request.method == "POST":
        try:
            notices.pair_message_remove(mapping=mapping, actor=Actor.from_request(request), tenant=tenant)
        except notices.PairMessageError as exc:
            messages.info(request, exc.message)
        else:
            messages.success(request, _("The message is removed from every page of both tenants."))
        return redirect("enablement:page")
    if not message:
        messages.info(request, _("There is no message to remove: someone removed it already."))
        return redirect("enablement:page")
    return render(request, "enablement/message_remove.html", {"tenant": tenant, "mapping": mapping,
                                                               "pair_message": message})


@tm_required
@require_http_methods(["GET", "POST"])
def tm_page(request, tenant_id):
    tenant = get_object_or_404(Tenant.objects.select_related("region"), pk=tenant_id)
    mapping = selectors.mapping_of(tenant=tenant)
    if mapping is None:
        raise Http404
    status, form = 200, None
    if request.method == "POST":
        outcome = _switch(request, tenant=tenant, mapping=mapping, on_behalf=True)
        if isinstance(outcome, tuple):
            form, status = outcome
        else:
            messages.success(request, _done_message(outcome.mapping) if outcome.changed
                             else _unchanged_message(outcome.mapping))
            return redirect("enablement:tm_page", tenant_id=tenant.pk)
    mapping = selectors.mapping_of(tenant=tenant)
    context = _context(request, tenant, mapping, form=form, can_change=True, can_see_sync=False, tm=True)
    return render(request, "enablement/tm_page.html", context, status=status)
