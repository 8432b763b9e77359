"""Continuity Plan → Drills. Everyone in the tenant reads; Continuity Plan: Edit records drills and their
follow-up actions; Rehearse needs BCP Tenant Enablement: Edit too. Another tenant's drill is a 404."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import Actor
from bcp_project.access import tenant_member_required
from bcp_project.htmx import redirect_after_save, render_page_or_partial
from bcp_project.permissions import CHANGE_BCP_ENABLEMENT, CHANGE_CONTINUITY_PLAN, VIEW_BCP_CONFIGURATIONS
from enablement.services import PasskeyThrottled, PasskeyWrong
from sync.models import SyncRun
from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping

from ..plan.selectors import plan_of
from . import selectors, services
from .forms import ActionForm, ActionFormSet, DrillForm, RehearseForm, SystemDrillForm
from .reports import report_of

OPEN_ACTIONS_SHOWN = 50


# A page that only shows a form: read-only members may know it exists, but not use it.
editors = tenant_member_required(CHANGE_CONTINUITY_PLAN, editors_only=True)


def _can_rehearse(request) -> bool:
    return request.nav.has(CHANGE_CONTINUITY_PLAN) and request.nav.has(CHANGE_BCP_ENABLEMENT)


def _list_context(request, tenant, **extra) -> dict:
    plan = plan_of(tenant=tenant)
    page = Paginator(selectors.drill_list(tenant=tenant), settings.PAGE_SIZE).get_page(request.GET.get("page"))
    actions = selectors.open_actions(tenant=tenant)
    shown = list(actions[:OPEN_ACTIONS_SHOWN + 1])
    mapping = selectors.rehearsal_mapping(tenant=tenant)
    can_rehearse = mapping is not None and _can_rehearse(request)
    return {"tenant": tenant, "plan": plan, "schedule": selectors.drill_schedule(tenant=tenant, plan=plan),
            "page": page, "actions": shown[:OPEN_ACTIONS_SHOWN], "more_actions": len(shown) > OPEN_ACTIONS_SHOWN,
            "can_change": request.nav.has(CHANGE_CONTINUITY_PLAN), "mapping": mapping, "can_rehearse": can_rehearse,
            "rehearse_form": RehearseForm() if can_rehearse else None, **extra}


@tenant_member_required()
@require_GET
def drills(request, *, tenant):
    return render_page_or_partial(request, "continuity/drills/list.html", "continuity/partials/_drill_table.html",
                                  _list_context(request, tenant))


@editors
@require_http_methods(["GET", "POST"])
def drill_create(request, *, tenant):
    form = DrillForm(request.POST or None)
    formset = ActionFormSet(request.POST or None, form_kwargs={"tenant": tenant}, prefix="actions")
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            actions = [{k: f.cleaned_data[k] for k in ("description", "owner", "due_on")}
                       for f in formset.forms if f.has_changed() and f.cleaned_data]
            try:
                drill = services.drill_create(tenant=tenant, actor=Actor.from_request(request), actions=actions,
                                              **form.cleaned_data)
            except services.DrillError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("The drill is recorded."))
                return redirect_after_save(request, reverse("continuity:drill", args=[drill.pk]))
        status = 400
    return render(request, "continuity/drills/drill_form.html",
                  {"tenant": tenant, "form": form, "formset": formset, "drill": None}, status=status)


def _detail_context(request, tenant, drill, **extra) -> dict:
    can_change = request.nav.has(CHANGE_CONTINUITY_PLAN)
    report = report_of(drill)
    if report and report.get("pending") and report.get("sync_run_id"):
        # While the rehearsal waits, the run's own state says whether a worker has taken it at all.
        # The pair's runs are in the backup's region.
        mapping = mapping_for_tenant(tenant=tenant, side=BcpMapping.Side.PRIMARY)
        report["live_run"] = (SyncRun.objects.filter(mapping=mapping, pk=report["sync_run_id"]).first()
                              if mapping is not None else None)
    return {"tenant": tenant, "drill": drill, "report": report,
            "actions": list(selectors.drill_actions(drill=drill)), "can_change": can_change,
            "can_see_sync": request.nav.has(VIEW_BCP_CONFIGURATIONS),
            **extra,
            "action_form": extra.get("action_form") or (ActionForm(tenant=tenant) if can_change else None)}


@tenant_member_required()
@require_GET
def drill(request, *, tenant, pk):
    drill = selectors.drill_get(tenant=tenant, pk=pk)
    # While a rehearsal runs, its page asks for this partial every few seconds (htmx), until it is complete.
    return render_page_or_partial(request, "continuity/drills/drill.html", "continuity/partials/_drill_report.html",
                                  _detail_context(request, tenant, drill))


@editors
@require_http_methods(["GET", "POST"])
def drill_edit(request, *, tenant, pk):
    drill = selectors.drill_get(tenant=tenant, pk=pk)
    system = drill.kind in services.SYSTEM_KINDS
    form_class = SystemDrillForm if system else DrillForm
    initial = {name: getattr(drill, name) for name in form_class.base_fields}
    form = form_class(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.drill_update(drill=drill, actor=Actor.from_request(request), **form.cleaned_data)
            except services.DrillError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("The drill is saved."))
                return redirect_after_save(request, reverse("continuity:drill", args=[drill.pk]))
        status = 400
    return render(request, "continuity/drills/drill_form.html",
                  {"tenant": tenant, "form": form, "formset": None, "drill": drill, "system": system}, status=status)


@editors
@require_http_methods(["GET", "POST"])
def action_create(request, *, tenant, pk):
    drill = selectors.drill_get(tenant=tenant, pk=pk)
    form = ActionForm(request.POST or None, tenant=tenant)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.drill_action_create(drill=drill, actor=Actor.from_request(request), **form.cleaned_data)
            except services.DrillError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("The follow-up action is added."))
                return redirect_after_save(request, reverse("continuity:drill", args=[drill.pk]) + "#actions")
        return render(request, "continuity/drills/drill.html",
                      _detail_context(request, tenant, drill, action_form=form), status=400)
    return render(request, "continuity/drills/action_form.html",
                  {"tenant": tenant, "drill": drill, "form": form, "action": None})


@editors
@require_http_methods(["GET", "POST"])
def action_edit(request, *, tenant, pk):
    action = selectors.action_get(tenant=tenant, pk=pk)
    form = ActionForm(request.POST or None, tenant=tenant,
                      initial={"description": action.description, "owner": action.owner_id, "due_on": action.due_on})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.drill_action_update(action=action, actor=Actor.from_request(request), **form.cleaned_data)
            except services.DrillError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("The follow-up action is saved."))
                return redirect_after_save(request, reverse("continuity:drill", args=[action.drill_id]) + "#actions")
        status = 400
    return render(request, "continuity/drills/action_form.html",
                  {"tenant": tenant, "drill": action.drill, "form": form, "action": action}, status=status)


def _back(request, default: str) -> str:
    """Where to go after a small action: the page it was pressed on, if that is one of ours."""
    target = request.POST.get("next", "")
    return target if target.startswith("/plan/") and "//" not in target else default


@tenant_member_required(CHANGE_CONTINUITY_PLAN)
@require_POST
def action_done(request, *, tenant, pk):
    action = selectors.action_get(tenant=tenant, pk=pk)
    done = request.POST.get("done", "1") != "0"
    services.drill_action_done(action=action, actor=Actor.from_request(request), done=done)
    messages.success(request, _("“%(action)s” is marked done.") % {"action": action.description} if done else
                     _("“%(action)s” is open again.") % {"action": action.description})
    return redirect_after_save(request, _back(request, reverse("continuity:drill", args=[action.drill_id])))


@editors
@require_http_methods(["GET", "POST"])
def action_delete(request, *, tenant, pk):
    action = selectors.action_get(tenant=tenant, pk=pk)
    if request.method == "POST":
        services.drill_action_delete(action=action, actor=Actor.from_request(request))
        messages.success(request, _("The follow-up action “%(action)s” is removed.") % {"action": action.description})
        return redirect_after_save(request, reverse("continuity:drill", args=[action.drill_id]) + "#actions")
    return render(request, "continuity/drills/action_delete.html", {"tenant": tenant, "action": action})


@tenant_member_required(CHANGE_CONTINUITY_PLAN)
@require_POST
def rehearse(request, *, tenant):
    if not request.nav.has(CHANGE_BCP_ENABLEMENT):
        raise PermissionDenied  # a rehearsal enters the switch's passkey
    if selectors.rehearsal_mapping(tenant=tenant) is None:
        raise Http404  # only a mapped primary whose BCP tenant is not active has Rehearse
    form = RehearseForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            drill = services.rehearse(tenant=tenant, passkey=form.cleaned_data["passkey"],
                                      actor=Actor.from_request(request))
        except PasskeyThrottled as exc:
            form.add_error("passkey", exc.message)
            status = 429
        except PasskeyWrong as exc:
            form.add_error("passkey", exc.message)
        except services.DrillError as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, _("The rehearsal has started: the checks are done and a sync is running. "
                                        "This page shows the result when the sync has finished; nobody was signed "
                                        "out."))
            return redirect_after_save(request, reverse("continuity:drill", args=[drill.pk]))
    context = _list_context(request, tenant)
    context["rehearse_form"] = form
    return render(request, "continuity/drills/list.html", context, status=status)
