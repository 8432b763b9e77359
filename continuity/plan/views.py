"""The plan page (everyone in the tenant reads it), its editing pages and its settings (Continuity Plan: Edit).

One set of views serves every section: the section comes from the path (see urls.SectionConverter), its
form from forms.FORMS, its writes from the generic services."""

import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import Actor
from bcp_project.access import tenant_member_required
from bcp_project.htmx import redirect_after_save
from bcp_project.permissions import ACCESS_ADMIN, CHANGE_CONTINUITY_PLAN, VIEW_BCP_ENABLEMENT
from bcp_project.regions import RegionUnavailable, in_region

from ..models import ActivationTrigger, EmergencyContact, Plan, Procedure
from . import selectors, services
from .changes import UP
from .forms import FORMS, MoveForm, SettingsForm, StepForm
from .sections import BY_SLUG, SLUGS, Section

guard = tenant_member_required(change_perm=CHANGE_CONTINUITY_PLAN)
# A page that only shows a form: read-only members may know it exists, but not use it.
editors = tenant_member_required(CHANGE_CONTINUITY_PLAN, editors_only=True)

PAGE = "continuity/plan/plan.html"
NO_COPY = "continuity/plan/no_copy.html"
EDIT = "continuity/plan/item_edit.html"
STEP = "continuity/plan/step_edit.html"
REMOVE = "continuity/plan/confirm_remove.html"


def _can_edit(request) -> bool:
    return request.nav.has(CHANGE_CONTINUITY_PLAN)


def in_outage(request):
    """The platform status while the tenant is in an outage (status.middleware lets the plan's reading pages
    through then, and says so on the request), else None. The plan is read, not changed, during an outage."""
    return getattr(request, "platform_outage", None)


def or_backup_copy(request, tenant, show):
    """`show(None)`: a reading page of the plan. While the tenant's region does not answer and the tenant is a
    primary, `show(copy)` instead, in the backup's region (copy: selectors.BackupCopy), or a 503 that says neither
    region answers."""
    try:
        return show(None)
    except RegionUnavailable as exc:
        copy = selectors.backup_copy(tenant=tenant, alias=exc.alias)
        if copy is None:
            raise
    if not copy.readable:
        response = render(request, NO_COPY, {"copy": copy}, status=503)
        response["Retry-After"] = "30"
        return response
    with in_region(copy.bcp):
        return show(copy)


def _editors_only(request) -> None:
    if not _can_edit(request):
        raise PermissionDenied  # a form that cannot be saved helps nobody who may only read


def _minutes(value: int) -> str:
    if value and value % 60 == 0:
        hours = value // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", value) % {"count": value}


def _display(section: Section, item, *, slugs: dict) -> list[dict]:
    """The item's fields as the plan page shows them: label, text, and a link where one helps."""
    rows = []
    for key, label in section.fields:
        value, href = getattr(item, key, ""), ""
        if key in ("responsible_team", "team"):
            value = value.name if value is not None else ""
            if value:
                href = f"#{slugs['plan_team']}-{getattr(item, key + '_id')}"
        elif key == "procedure":
            value, href = (value.name, f"#{slugs['procedure']}-{item.procedure_id}") if value is not None else ("", "")
        elif key == "recovery_time_goal":
            value = _minutes(value) if value is not None else ""
        elif key == "last_reviewed":
            value = date_format(value, "DATE_FORMAT")
        elif key == "phone" and value:
            href = "tel:" + "".join(ch for ch in value if ch.isdigit() or ch == "+")
        elif key == "email" and value:
            href = f"mailto:{value}"
        elif key in ("kind", "action"):
            value = getattr(item, f"get_{key}_display")()
        elif key == "steps":
            continue  # listed on their own, in order
        rows.append({"key": key, "label": label, "value": value, "href": href})
    return rows


def _page_context(request, tenant, *, backup=None, **extra) -> dict:
    """The plan page's context. With `backup` (a BackupCopy), `tenant` is the primary whose region does not answer
    and the page shows the copy on its BCP tenant, read-only."""
    page = selectors.plan_page(tenant=backup.bcp if backup is not None else tenant)
    slugs = {rows.section.key: rows.slug for rows in page.sections}
    for rows in page.sections:
        for item in rows.items:
            item.display = _display(rows.section, item, slugs=slugs)
            item.anchor = f"{rows.slug}-{item.pk}"
    nav = request.nav
    editor = _can_edit(request) and backup is None and in_outage(request) is None
    return {"tenant": tenant, "page": page, "can_edit": editor and page.plan is not None,
            "may_start": editor and page.plan is None and not page.is_copy and page.is_empty,
            "backup": backup, "outage": in_outage(request),
            "can_see_enablement": nav.admin_tenant is not None and nav.has(VIEW_BCP_ENABLEMENT),
            "show_sidebar": nav.has(ACCESS_ADMIN) and nav.admin_tenant is not None,
            "BC_ENABLEMENT": ActivationTrigger.Action.BC_ENABLEMENT, "CONTACTS": EmergencyContact.ENTITY_TYPE,
            "PROCEDURES": Procedure.ENTITY_TYPE, "tab": "plan", **extra}


def _back(section: Section, pk=None) -> str:
    anchor = f"{SLUGS[section.key]}-{pk}" if pk else f"section-{SLUGS[section.key]}"
    return f"{reverse('continuity:plan')}#{anchor}"


def _item_label(section: Section) -> str:
    return capfirst(section.model._meta.verbose_name)


# --- the plan ---------------------------------------------------------------------------------------------

@guard
@require_GET
def plan(request, *, tenant):
    return or_backup_copy(request, tenant, lambda copy: render(request, PAGE,
                                                                 _page_context(request, tenant, backup=copy)))


@guard
@require_POST
def plan_start(request, *, tenant):
    context = _page_context(request, tenant)
    if context["page"].is_copy:
        messages.error(request, _(
            "This is the BCP tenant: its plan is copied from the primary tenant by the sync, which is paused while "
            "the BCP tenant is active. Start the plan on the primary once someone has switched back to it on BC "
            "Enablement.") if context["page"].sync.bcp_active else _(
            "This is the BCP tenant: its plan is copied from the primary tenant by the sync. "
            "Start and edit the plan on the primary tenant."))
        return render(request, PAGE, _page_context(request, tenant), status=409)
    try:
        services.plan_start(tenant=tenant, actor=Actor.from_request(request))
    except services.PlanError as exc:
        messages.error(request, exc.message)
        return render(request, PAGE, _page_context(request, tenant), status=409)
    messages.success(request, _("The plan is started with the usual critical systems, teams, procedures and "
                                "triggers. Go through each section and make it yours."))
    return redirect("continuity:plan")


# --- a section's rows -------------------------------------------------------------------------------------

def _edit_context(request, tenant, section, form, obj=None, **extra) -> dict:
    context = {"tenant": tenant, "section": section, "slug": SLUGS[section.key], "form": form,
               "object": obj, "item_label": _item_label(section),
               "item_name": section.model._meta.verbose_name, "cancel_url": _back(section, obj and obj.pk),
               "show_sidebar": request.nav.admin_tenant is not None, "tab": "plan", **extra}
    if obj is not None and section.model is Procedure:
        steps = selectors.procedure_steps(procedure=obj)
        context.update(steps=steps, step_form=StepForm(tenant=tenant, auto_id="id_step_%s"))
    return context


def _no_plan(request):
    messages.info(request, _("Start the plan first; then you can add to it."))
    return redirect("continuity:plan")


@guard
@require_http_methods(["GET", "POST"])
def item_create(request, *, tenant, section):
    _editors_only(request)
    if selectors.plan_of(tenant=tenant) is None:
        return _no_plan(request)
    form = FORMS[section.key](request.POST or None, tenant=tenant, instance=section.model(tenant=tenant))
    if request.method == "POST":
        if form.is_valid():
            try:
                obj, _version = services.section_item_create(tenant=tenant, section_key=section.key,
                                                             values=form.service_data(),
                                                             actor=Actor.from_request(request))
            except services.PlanError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("%(item)s “%(name)s” is added.") % {"item": _item_label(section),
                                                                                "name": obj.name})
                if section.model is Procedure:  # next: its steps
                    return redirect(reverse("continuity:item_edit", args=[section, obj.pk]) + "#steps")
                return redirect(_back(section, obj.pk))
        return render(request, EDIT, _edit_context(request, tenant, section, form), status=400)
    return render(request, EDIT, _edit_context(request, tenant, section, form))


@guard
@require_http_methods(["GET", "POST"])
def item_edit(request, *, tenant, section, pk):
    obj = selectors.section_item(tenant=tenant, section=section, pk=pk)
    _editors_only(request)
    # A model form writes into its instance: it gets a copy, the service compares with what is stored.
    form = FORMS[section.key](request.POST or None, tenant=tenant, instance=copy.copy(obj))
    if request.method == "POST":
        if form.is_valid():
            try:
                obj, version = services.section_item_update(tenant=tenant, section_key=section.key, obj=obj,
                                                            values=form.service_data(),
                                                            actor=Actor.from_request(request))
            except services.PlanError as exc:
                exc.add_to(form)
            else:
                if version is None:
                    messages.info(request, _("Nothing changed."))
                else:
                    messages.success(request, _("%(item)s “%(name)s” is saved.") % {"item": _item_label(section),
                                                                                    "name": obj.name})
                return redirect(_back(section, obj.pk))
        return render(request, EDIT, _edit_context(request, tenant, section, form, obj), status=400)
    return render(request, EDIT, _edit_context(request, tenant, section, form, obj))


@guard
@require_http_methods(["GET", "POST"])
def item_remove(request, *, tenant, section, pk):
    obj = selectors.section_item(tenant=tenant, section=section, pk=pk)
    _editors_only(request)
    if request.method == "POST":
        try:
            services.section_item_delete(tenant=tenant, section_key=section.key, obj=obj,
                                         actor=Actor.from_request(request))
        except services.PlanError as exc:
            messages.error(request, exc.message)
            return redirect(_back(section))
        messages.success(request, _("%(item)s “%(name)s” is removed.") % {"item": _item_label(section),
                                                                          "name": obj.name})
        return redirect(_back(section))
    context = {"tenant": tenant, "section": section, "object": obj, "name": obj.name, "tab": "plan",
               "item_name": section.model._meta.verbose_name, "cancel_url": _back(section, obj.pk),
               "action_url": reverse("continuity:item_remove", args=[section, obj.pk]),
               "show_sidebar": request.nav.admin_tenant is not None,
               "linked": section.key == "plan_team" or section.model is Procedure}
    return render(request, REMOVE, context)


def _move_direction(request, tenant):
    form = MoveForm(request.POST)
    if form.is_valid():
        return form.cleaned_data["direction"], None
    messages.error(request, _("Choose whether to move it up or down."))
    return None, render(request, PAGE, _page_context(request, tenant), status=400)


@guard
@require_POST
def item_move(request, *, tenant, section, pk):
    obj = selectors.section_item(tenant=tenant, section=section, pk=pk)
    direction, refusal = _move_direction(request, tenant)
    if refusal is not None:
        return refusal
    try:
        version = services.section_item_move(tenant=tenant, section_key=section.key, obj=obj, direction=direction,
                                             actor=Actor.from_request(request))
    except services.PlanError as exc:
        messages.error(request, exc.message)
    else:
        if version is None:
            text = (_("“%(name)s” is already at the top.") if direction == UP
                    else _("“%(name)s” is already at the bottom."))
            messages.info(request, text % {"name": obj.name})
        else:
            messages.success(request, _("“%(name)s” is moved.") % {"name": obj.name})
    return redirect(_back(section, obj.pk))


@guard
@require_POST
def contact_reviewed(request, *, tenant, pk):
    section = BY_SLUG["contacts"]
    contact = selectors.section_item(tenant=tenant, section=section, pk=pk)
    try:
        version = services.contact_mark_reviewed(tenant=tenant, contact=contact, actor=Actor.from_request(request))
    except services.PlanError as exc:
        messages.error(request, exc.message)
    else:
        if version is None:
            messages.info(request, _("“%(name)s” was already marked reviewed today.") % {"name": contact.name})
        else:
            messages.success(request, _("“%(name)s” is marked reviewed today.") % {"name": contact.name})
    return redirect(_back(section, contact.pk))


# --- a procedure's steps ----------------------------------------------------------------------------------

def _procedure(tenant, pk) -> Procedure:
    return selectors.section_item(tenant=tenant, section=BY_SLUG["procedures"], pk=pk)


def _steps_url(procedure) -> str:
    return reverse("continuity:item_edit", args=["procedures", procedure.pk]) + "#steps"


def _step_context(request, tenant, procedure, form, step=None) -> dict:
    return {"tenant": tenant, "procedure": procedure, "step": step, "form": form, "tab": "plan",
            "cancel_url": _steps_url(procedure), "show_sidebar": request.nav.admin_tenant is not None}


@guard
@require_http_methods(["GET", "POST"])
def step_create(request, *, tenant, pk):
    procedure = _procedure(tenant, pk)
    _editors_only(request)
    form = StepForm(request.POST or None, tenant=tenant)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.procedure_step_add(tenant=tenant, procedure=procedure, text=form.cleaned_data["text"],
                                            team=form.cleaned_data["team"], actor=Actor.from_request(request))
            except services.PlanError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("The step is added to “%(name)s”.") % {"name": procedure.name})
                return redirect(_steps_url(procedure))
        return render(request, STEP, _step_context(request, tenant, procedure, form), status=400)
    return render(request, STEP, _step_context(request, tenant, procedure, form))


@guard
@require_http_methods(["GET", "POST"])
def step_edit(request, *, tenant, pk, step):
    procedure = _procedure(tenant, pk)
    step = selectors.procedure_step(procedure=procedure, pk=step)
    _editors_only(request)
    form = StepForm(request.POST or None, tenant=tenant, initial={"text": step.text, "team": step.team_id})
    if request.method == "POST":
        if form.is_valid():
            try:
                version = services.procedure_step_update(tenant=tenant, step=step, text=form.cleaned_data["text"],
                                                         team=form.cleaned_data["team"],
                                                         actor=Actor.from_request(request))
            except services.PlanError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("Step %(number)d is saved.") % {"number": step.position}
                                 if version is not None else _("Nothing changed."))
                return redirect(_steps_url(procedure))
        return render(request, STEP, _step_context(request, tenant, procedure, form, step), status=400)
    return render(request, STEP, _step_context(request, tenant, procedure, form, step))


@guard
@require_http_methods(["GET", "POST"])
def step_remove(request, *, tenant, pk, step):
    procedure = _procedure(tenant, pk)
    step = selectors.procedure_step(procedure=procedure, pk=step)
    _editors_only(request)
    if request.method == "POST":
        try:
            services.procedure_step_remove(tenant=tenant, step=step, actor=Actor.from_request(request))
        except services.PlanError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Step %(number)d of “%(name)s” is removed.")
                             % {"number": step.position, "name": procedure.name})
        return redirect(_steps_url(procedure))
    section = BY_SLUG["procedures"]
    context = {"tenant": tenant, "section": section, "object": procedure, "step": step, "tab": "plan",
               "name": Truncator(step.text).chars(80),
               "item_name": _("step"), "cancel_url": _steps_url(procedure),
               "action_url": reverse("continuity:step_remove", args=[procedure.pk, step.pk]),
               "show_sidebar": request.nav.admin_tenant is not None, "linked": False}
    return render(request, REMOVE, context)


@guard
@require_POST
def step_move(request, *, tenant, pk, step):
    procedure = _procedure(tenant, pk)
    step = selectors.procedure_step(procedure=procedure, pk=step)
    direction, refusal = _move_direction(request, tenant)
    if refusal is not None:
        return refusal
    try:
        version = services.procedure_step_move(tenant=tenant, step=step, direction=direction,
                                               actor=Actor.from_request(request))
    except services.PlanError as exc:
        messages.error(request, exc.message)
    else:
        if version is not None:
            messages.success(request, _("The steps of “%(name)s” are reordered.") % {"name": procedure.name})
        else:
            messages.info(request, _("Nothing changed."))
    return redirect(_steps_url(procedure))


# --- the plan's settings ------------------------------------------------------------------------------------

@editors
@require_http_methods(["GET", "POST"])
def plan_settings(request, *, tenant):
    plan = selectors.plan_of(tenant=tenant)
    initial = {"drill_every_months": plan.drill_every_months if plan else Plan.DrillFrequency.QUARTERLY,
               "owners": list(plan.owners.all()) if plan else []}
    form = SettingsForm(request.POST or None, tenant=tenant, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.plan_settings_save(tenant=tenant, actor=Actor.from_request(request),
                                            drill_every_months=form.cleaned_data["drill_every_months"],
                                            owners=list(form.cleaned_data["owners"]))
            except services.PlanError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("The plan's settings are saved."))
                return redirect_after_save(request, reverse("continuity:settings"))
        status = 409 if form.non_field_errors() and selectors.primary_of(tenant=tenant) else 400
    return render(request, "continuity/plan/settings.html",
                  {"tenant": tenant, "form": form, "plan": plan, "copy_of": selectors.primary_of(tenant=tenant),
                   "editors": list(selectors.plan_editors(tenant=tenant).order_by("username")[:20])}, status=status)
