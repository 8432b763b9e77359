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
from sync import carryback
from sync.models import SyncConfiguration
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
    if mapping is not None and "changes" not in extra:
        extra["changes"] = carryback.bcp_changes(mapping=mapping)
    return {"tenant": tenant, "mapping": mapping, "state": state, "active": active, "form": form,
            "is_bcp_side": mapping is not None and mapping.secondary_id == tenant.pk,
            "regions_down": state.regions_down if state is not None else [],
            "carry": carryback.CARRY, "keep": carryback.KEEP, **extra}


def _message_card(mapping, *, can_change: bool, form=None) -> dict:
    """The card of the pair's message (_panel.html): the message shown now, and its form for who may change it."""
    if mapping is None:
        return {}
    message = notices.pair_message_get(mapping_id=mapping.pk)
    card = {"pair_message": message}
    if can_change:
        card["message_form"] = form or PairMessageForm(initial={"text": message.get("text", "")})
    return card


CHOICE_PREFIX = "choice-"


def _posted_choices(post) -> dict[str, str]:
    return {name.removeprefix(CHOICE_PREFIX): value for name, value in post.items() if name.startswith(CHOICE_PREFIX)}


def _review(request, *, tenant, mapping, **extra):
    """The first step of a switch back with changes on the BCP tenant: the choices checked, and the page shown
    again with what will be carried back and what will be overwritten, the passkey and the confirmation. Nothing
    is changed. Refused (409) when the list is not the one the choices were made on."""
    changes = carryback.bcp_changes(mapping=mapping)
    context = _context(request, tenant, mapping, changes=changes, can_change=True, **extra)
    if request.POST.get("changes_token") != changes.token:
        context["changes_error"] = carryback.ChangesMoved().message
        return context, 409
    everything = request.POST.get("all_choice", "")
    posted = _posted_choices(request.POST)
    choices = {}
    for item in changes.items:
        if everything == carryback.KEEP or (everything == carryback.CARRY and item.blocked):
            choices[item.key] = carryback.KEEP
        else:
            choices[item.key] = carryback.CARRY if everything == carryback.CARRY else posted.get(item.key, "")
    try:
        review = context["review"] = carryback.decide(changes, choices)
    except carryback.CarryBackError as exc:
        context["changes_error"] = exc.message
        for item in changes.items:  # what the person chose stays chosen
            item.chosen = posted.get(item.key, "")
        return context, 400
    context["overwritten"] = [item for item in review.kept if item.kind != carryback.CREATED]
    context["stays"] = [item for item in review.kept if item.kind == carryback.CREATED]
    context["sync_enabled"] = SyncConfiguration.objects.filter(mapping=mapping, enabled=True).exists()
    context["review_choices"] = [(f"{CHOICE_PREFIX}{key}", value) for key, value in choices.items()]
    context["form"] = SwitchForm(initial={"bcp_active": False})
    return context, 200


def _choose_again(request, *, tenant, mapping, **extra) -> dict:
    """“Change the choices” on the review: the list again with every choice still chosen (the review's form sends
    them back, one per record, a choice for every record spelled out). When the list changed meanwhile it says so;
    a record new to it starts as a record does. Nothing is changed."""
    changes = carryback.bcp_changes(mapping=mapping)
    posted = _posted_choices(request.POST)
    for item in changes.items:
        item.chosen = posted.get(item.key, "")
    context = _context(request, tenant, mapping, changes=changes, can_change=True, **extra)
    if request.POST.get("changes_token") != changes.token:
        context["changes_error"] = carryback.ChangesMoved().message
    return context


def _page_context(request, tenant, mapping, *, message_form=None, **extra) -> dict:
    """The Admin page's context, with what the person may do there."""
    can_change = request.nav.has(CHANGE_BCP_ENABLEMENT)
    return _context(request, tenant, mapping, can_change=can_change,
                    can_see_sync=request.nav.has(VIEW_BCP_CONFIGURATIONS),
                    **_message_card(mapping, can_change=can_change, form=message_form), **extra)


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
                                        reason=data["reason"], on_behalf=on_behalf,
                                        choices=_posted_choices(request.POST),
                                        changes_token=request.POST.get("changes_token") or None)
    except services.PasskeyThrottled as exc:
        form.add_error("passkey", exc.message)
        return form, 429
    except services.EnablementError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        refused = services.SwitchRefused | services.NeedsReason | services.ReviewChanges
        return form, 409 if isinstance(exc, refused) else 400
    return result


def _refused(request, tenant, mapping, form, status, **extra) -> dict:
    """The page again after a refused switch: with the review of the switch back when it came from there (the
    passkey wrong, say), unless the list changed meanwhile."""
    if request.POST.get("changes_token"):
        context, review_status = _review(request, tenant=tenant, mapping=mapping, **extra)
        if review_status == 200:
            context["form"] = form
        return context
    return _context(request, tenant, mapping, form=form, can_change=True, **extra)


def _done_message(mapping: BcpMapping) -> str:
    if mapping.active_side == BcpMapping.Side.SECONDARY:
        return _("The BCP tenant “%(bcp)s” is active now. Everyone has been signed out; when they sign in again, "
                 "with the same username and password, they land on “%(bcp)s”.") % {"bcp": mapping.secondary.name}
    return _("The primary tenant “%(primary)s” is active again. Everyone has been signed out; when they sign in "
             "again they land on “%(primary)s”.") % {"primary": mapping.primary.name}


def _carried_message(result) -> str | None:
    """What was carried back and what was left to the primary's version; an empty list is left out."""
    parts = []
    if result.carried:
        parts.append(_("Carried back to the primary: %(carried)s.") % {
            "carried": ", ".join(item.name for item in result.carried)})
    if result.kept:
        parts.append(_("The primary's version stands for: %(kept)s.") % {
            "kept": ", ".join(item.name for item in result.kept)})
    return " ".join(parts) or None


def _sync_message(result) -> str | None:
    """After a switch back: the forward sync that makes the BCP tenant's copies the primary's again."""
    if result.sync == services.SYNC_QUEUED:
        return _("A sync has started: it makes the copies on the BCP tenant the primary's again, so what was not "
                 "carried back is overwritten now. Its progress is under Admin → Sync Configuration.")
    if result.sync == services.SYNC_DISABLED:
        return _("Sync is disabled for this pair, so nothing on the BCP tenant is overwritten until someone enables "
                 "it under Admin → Sync Configuration on the primary.")
    if result.sync == services.SYNC_NOT_STARTED:
        return _("The sync could not be started, because the BCP tenant's region does not answer. The first run "
                 "after it answers makes the copies there the primary's again.")
    return None


def _tell_done(request, result) -> None:
    """The messages after a switch that changed the active tenant."""
    messages.success(request, _done_message(result.mapping))
    for message in (_carried_message(result), _sync_message(result)):
        if message:
            messages.info(request, message)


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
    # A POST here needs BCP Tenant Enablement Edit (the guard), so the message card has its form.
    extra = {"can_see_sync": request.nav.has(VIEW_BCP_CONFIGURATIONS), **_message_card(mapping, can_change=True)}
    if request.POST.get("step") == "review":
        context, status = _review(request, tenant=tenant, mapping=mapping, **extra)
        return render(request, "enablement/page.html", context, status=status)
    if request.POST.get("step") == "change":
        return render(request, "enablement/page.html", _choose_again(request, tenant=tenant, mapping=mapping, **extra))
    outcome = _switch(request, tenant=tenant, mapping=mapping, on_behalf=False)
    if isinstance(outcome, tuple):
        context = _refused(request, tenant, mapping, *outcome, **extra)
        return render(request, "enablement/page.html", context, status=outcome[1])
    if not outcome.changed:
        messages.info(request, _unchanged_message(outcome.mapping))
        return redirect("enablement:page")
    # This session belongs to the side that is no longer active, like everyone else's: sign in again.
    signed_out_by_switch(request, mapping_id=outcome.mapping.pk)
    _tell_done(request, outcome)
    return redirect(reverse("accounts:login"))


def _pair_or_404(tenant) -> BcpMapping:
    mapping = selectors.mapping_of(tenant=tenant)
    if mapping is None:
        raise Http404
    return mapping


def _message_save(request, *, tenant, mapping, on_behalf: bool) -> PairMessageForm | None:
    """Writes the posted message for everyone in the pair and says so: None when it is saved, else the form with
    what to correct (nothing changed)."""
    form = PairMessageForm(request.POST)
    if form.is_valid():
        try:
            notices.pair_message_set(mapping=mapping, text=form.cleaned_data["text"],
                                     actor=Actor.from_request(request), tenant=tenant, on_behalf=on_behalf)
        except notices.PairMessageError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The message is saved. Everyone in “%(primary)s” and “%(bcp)s” sees it on "
                                        "every page until you remove it.")
                             % {"primary": mapping.primary.name, "bcp": mapping.secondary.name})
            return None
    return form


def _message_remove(request, *, tenant, mapping, tm: bool):
    """Asks first (GET), then removes the pair's message (POST), from the Admin page or (`tm`) from TM on the
    customer's behalf; back to that page."""
    back = reverse("enablement:tm_page", args=[tenant.pk]) if tm else reverse("enablement:page")
    if request.method == "POST":
        try:
            notices.pair_message_remove(mapping=mapping, actor=Actor.from_request(request), tenant=tenant,
                                        on_behalf=tm)
        except notices.PairMessageError as exc:
            messages.info(request, exc.message)
        else:
            messages.success(request, _("The message is removed from every page of both tenants."))
        return redirect(back)
    message = notices.pair_message_get(mapping_id=mapping.pk)
    if not message:
        messages.info(request, _("There is no message to remove: someone removed it already."))
        return redirect(back)
    return render(request, "enablement/message_remove.html", {"tenant": tenant, "mapping": mapping,
                                                               "pair_message": message, "back": back,
                                                               "tm": tm})


@guard
@require_POST
def message_set(request, *, tenant):
    """Writes the message for everyone in the pair (BCP Tenant Enablement Edit, on either tenant)."""
    mapping = _pair_or_404(tenant)
    if not request.nav.has(CHANGE_BCP_ENABLEMENT):
        raise PermissionDenied
    form = _message_save(request, tenant=tenant, mapping=mapping, on_behalf=False)
    if form is None:
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
    return _message_remove(request, tenant=tenant, mapping=mapping, tm=False)


# --- the same panel in TM: an account representative acting on the customer's behalf ----------------------------


def _tm_tenant_and_pair(tenant_id) -> tuple[Tenant, BcpMapping]:
    tenant = get_object_or_404(Tenant.objects.select_related("region"), pk=tenant_id)
    return tenant, _pair_or_404(tenant)


def _tm_context(request, tenant, mapping, *, message_form=None, **extra) -> dict:
    """The TM page's context: a representative may do everything there that the customer's BCP Tenant Enablement
    Edit allows, but sees nothing of Sync Configuration."""
    return _context(request, tenant, mapping, can_change=True, can_see_sync=False, tm=True,
                    **_message_card(mapping, can_change=True, form=message_form), **extra)


@tm_required
@require_http_methods(["GET", "POST"])
def tm_page(request, tenant_id):
    tenant, mapping = _tm_tenant_and_pair(tenant_id)
    extra = {"can_see_sync": False, "tm": True, **_message_card(mapping, can_change=True)}
    if request.method == "POST" and request.POST.get("step") == "review":
        context, status = _review(request, tenant=tenant, mapping=mapping, **extra)
        return render(request, "enablement/tm_page.html", context, status=status)
    if request.method == "POST" and request.POST.get("step") == "change":
        context = _choose_again(request, tenant=tenant, mapping=mapping, **extra)
        return render(request, "enablement/tm_page.html", context)
    if request.method == "POST":
        outcome = _switch(request, tenant=tenant, mapping=mapping, on_behalf=True)
        if isinstance(outcome, tuple):
            context = _refused(request, tenant, mapping, *outcome, **extra)
            return render(request, "enablement/tm_page.html", context, status=outcome[1])
        if outcome.changed:
            _tell_done(request, outcome)
        else:
            messages.success(request, _unchanged_message(outcome.mapping))
        return redirect("enablement:tm_page", tenant_id=tenant.pk)
    return render(request, "enablement/tm_page.html", _tm_context(request, tenant, mapping))


@tm_required
@require_POST
def tm_message_set(request, tenant_id):
    """The pair's message written by a representative on the customer's behalf (audited as theirs, for it)."""
    tenant, mapping = _tm_tenant_and_pair(tenant_id)
    form = _message_save(request, tenant=tenant, mapping=mapping, on_behalf=True)
    if form is None:
        return redirect("enablement:tm_page", tenant_id=tenant.pk)
    return render(request, "enablement/tm_page.html", _tm_context(request, tenant, mapping, message_form=form),
                  status=400)


@tm_required
@require_http_methods(["GET", "POST"])
def tm_message_remove(request, tenant_id):
    """Asks first, then removes the pair's message on the customer's behalf."""
    tenant, mapping = _tm_tenant_and_pair(tenant_id)
    return _message_remove(request, tenant=tenant, mapping=mapping, tm=True)
