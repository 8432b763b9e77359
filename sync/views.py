"""Admin → Sync Configuration: BCP Configurations View to look, Edit to change (403 for a POST without it)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import Actor
from bcp_project.access import admin_required
from bcp_project.htmx import redirect_after_save, render_page_or_partial
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS, VIEW_BCP_CONFIGURATIONS

from . import selectors, services
from .engine.registry import ENTITIES, selected_keys
from .forms import CorrelationLookupForm, CustomSelectionForm, FrequencyForm, HistoryFilterForm
from .messages import error_text, region_down_now, skip_text

guard = admin_required(VIEW_BCP_CONFIGURATIONS, CHANGE_BCP_CONFIGURATIONS)
PAGE = "sync/configuration.html"


def _context(request, state, **extra) -> dict:
    return {"state": state, "can_change": request.nav.has(CHANGE_BCP_CONFIGURATIONS), "entities": ENTITIES,
            "region_down": region_down_now(state.region_down) if state.region_down is not None else "", **extra}


def _forms(state, data=None, tab="default"):
    configuration = state.configuration
    initial_frequency = {"frequency": configuration.frequency} if configuration else {}
    initial_custom = ({"custom": "custom" if configuration.custom else "all",
                       "entity_types": selected_keys(custom=configuration.custom, chosen=configuration.entity_types)}
                      if configuration else {})
    frequency = FrequencyForm(data if tab == "default" else None, initial=initial_frequency)
    custom = CustomSelectionForm(data if tab == "custom" else None, initial=initial_custom)
    return frequency, custom


def _page(request, state, *, status=200, tab=None, frequency_form=None, custom_form=None):
    tab = tab or request.GET.get("tab", "default")
    if tab not in ("default", "custom"):
        tab = "default"
    frequency, custom = _forms(state)
    context = _context(request, state, tab=tab, frequency_form=frequency_form or frequency,
                       custom_form=custom_form or custom, run=state.active_run or state.last_run)
    return render(request, PAGE, context, status=status)


@guard
@require_GET
def configuration(request, *, tenant):
    return _page(request, selectors.sync_state(tenant=tenant))


def _primary_state(tenant):
    state = selectors.sync_state(tenant=tenant)
    if not state.is_primary:
        raise Http404  # only a primary tenant has these actions
    return state


@guard
@require_POST
def enable(request, *, tenant):
    _primary_state(tenant)
    try:
        _configuration, run = services.sync_enable(tenant=tenant, actor=Actor.from_request(request))
    except services.SyncError as exc:
        messages.error(request, exc.message)
        return _page(request, selectors.sync_state(tenant=tenant), status=409)
    if run is not None and run.waiting_for_queue:
        messages.warning(request, _("Sync is enabled and the first sync is saved, but the task queue does not answer "
                                    "right now: the run will start when the task queue is back. There is nothing "
                                    "more to do."))
    else:
        messages.success(request, _("Sync is enabled. The first sync has started; from now on the data syncs every "
                                    "day at this time. Change how often under Sync Settings.") if run else
                         _("Sync is enabled. It starts once the primary tenant is active again."))
    return redirect_after_save(request, reverse("sync:configuration"))


@guard
@require_POST
def save_settings(request, *, tenant):
    state = _primary_state(tenant)
    tab = request.POST.get("tab", "default")
    if tab not in ("default", "custom") or state.configuration is None:
        messages.error(request, _("Enable Sync first; then choose its settings."))
        return _page(request, state, status=400)
    frequency_form, custom_form = _forms(state, request.POST, tab)
    form = frequency_form if tab == "default" else custom_form
    if form.is_valid():
        configuration = state.configuration
        data = form.cleaned_data
        try:
            services.sync_settings_save(
                configuration=configuration, actor=Actor.from_request(request),
                frequency=data.get("frequency", configuration.frequency),
                custom=data.get("custom", configuration.custom) if tab == "custom" else configuration.custom,
                entity_types=data.get("entity_types", configuration.entity_types) if tab == "custom"
                else configuration.entity_types)
        except services.SyncError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("Sync settings are saved."))
            return redirect_after_save(request, reverse("sync:configuration") + f"?tab={tab}")
    return _page(request, state, status=400, tab=tab,
                 frequency_form=frequency_form if tab == "default" else None,
                 custom_form=custom_form if tab == "custom" else None)


@guard
@require_http_methods(["GET", "POST"])
def disable(request, *, tenant):
    state = _primary_state(tenant)
    if not request.nav.has(CHANGE_BCP_CONFIGURATIONS):
        raise PermissionDenied  # the page asks to confirm what this person cannot do
    if not state.enabled:
        messages.info(request, _("Sync is already disabled for this tenant."))
        return redirect("sync:configuration")
    error, status = "", 200
    if request.method == "POST":
        try:
            services.sync_disable(configuration=state.configuration, actor=Actor.from_request(request))
        except services.SyncError as exc:
            error, status = exc.message, 409
        else:
            messages.success(request, _("Sync is disabled. The BCP tenant keeps the data it has, but no longer "
                                        "receives changes."))
            return redirect_after_save(request, reverse("sync:configuration"))
    return render(request, "sync/disable.html", _context(request, state, error=error), status=status)


@guard
@require_POST
def run_now(request, *, tenant):
    _primary_state(tenant)
    try:
        run = services.sync_run_request(tenant=tenant, actor=Actor.from_request(request))
    except services.SyncError as exc:
        messages.error(request, exc.message)
        return _page(request, selectors.sync_state(tenant=tenant), status=409)
    if run.waiting_for_queue:
        messages.warning(request, _("The sync is saved, but the task queue does not answer right now: the run will "
                                    "start when the task queue is back. There is nothing more to do."))
    else:
        messages.success(request, _("The sync has started. Its progress is shown below."))
    return redirect_after_save(request, reverse("sync:configuration"))


@guard
@require_GET
def progress(request, *, tenant):
    state = selectors.sync_state(tenant=tenant)
    if state.mapping is None:
        raise Http404
    # The poll that sees the run end also replaces the page's messages: "The sync has started" is over.
    context = _context(request, state, run=state.active_run or state.last_run, final_poll=state.active_run is None)
    return render(request, "sync/partials/_progress.html", context)


@guard
@require_GET
def history(request, *, tenant):
    state = selectors.sync_state(tenant=tenant)
    if state.mapping is None:
        raise Http404
    form = HistoryFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    page = Paginator(selectors.sync_run_list(mapping=state.mapping, status=status),
                     settings.PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(request, state, form=form, page=page, filtered=bool(status))
    response_status = 400 if form.is_bound and not form.is_valid() else 200
    return render_page_or_partial(request, "sync/history.html", "sync/partials/_history_table.html", context,
                                  status=response_status)


@guard
@require_GET
def run_detail(request, *, tenant, pk):
    state = selectors.sync_state(tenant=tenant)
    if state.mapping is None:
        raise Http404
    run = selectors.sync_run_get(mapping=state.mapping, pk=pk)
    rows = [(entity, run.counts.get(entity.key)) for entity in ENTITIES if entity.key in run.counts]
    context = _context(request, state, run=run, rows=rows, errors=[error_text(e) for e in run.errors],
                       skip=skip_text(run.skip_reason) if run.skip_reason else "")
    return render(request, "sync/run_detail.html", context)


@guard
@require_GET
def changes(request, *, tenant):
    state = selectors.sync_state(tenant=tenant)
    if state.mapping is None:
        raise Http404
    since = state.last_success.as_of if state.last_success else None
    found = selectors.changes_since(mapping=state.mapping, since=since)
    rows = [(entity, *found[entity.key]) for entity in ENTITIES if entity.key in found]
    return render(request, "sync/changes.html", _context(request, state, since=since, rows=rows,
                                                         limit=selectors.LIMIT))


@guard
@require_GET
def correlations(request, *, tenant):
    state = selectors.sync_state(tenant=tenant)
    if state.mapping is None:
        raise Http404
    form = CorrelationLookupForm(request.GET or None)
    results, status = None, 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            results = selectors.correlation_lookup(mapping=state.mapping, entity_type=data["entity_type"],
                                                   query=data["q"].strip(), side=data["side"])
        else:
            status = 400
    return render(request, "sync/correlations.html", _context(request, state, form=form, results=results),
                  status=status)

