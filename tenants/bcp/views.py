"""The BCP wizard and BCP's actions on a tenant's Applications & Features tab (account representatives).

Each step renders into the page's modal for htmx requests and as a page of its own otherwise. Nothing
reaches the database before Save: the steps keep their answers in the session (wizard.py).
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import Actor
from bcp_project.access import tm_required
from bcp_project.exceptions import ApplicationError
from bcp_project.htmx import is_partial, redirect_after_save

from ..models import BcpMapping, Region, Tenant
from ..selectors import tenant_get
from ..views import tenant_page_render
from .forms import BcpMappingForm, BcpSettingsForm
from .selectors import bcp_regions_available, bcp_state, dr_tenant_choices, dr_tenant_resolve
from .services import (
    mapping_create,
    mapping_enable_secondary,
    mapping_passkey_replace,
    mapping_remove,
    mapping_validate,
    passkey_generate,
    passkey_hash,
)
from .wizard import (
    MODE_PRIMARY,
    MODE_SECONDARY,
    WizardGone,
    WizardState,
    wizard_drop,
    wizard_require,
    wizard_start,
    wizard_store,
)


def _applications_url(tenant) -> str:
    return reverse("tenants:applications", args=[tenant.pk])


def _dialog(request, tenant, body: str, context: dict | None = None, status: int = 200) -> HttpResponse:
    """One wizard step or confirmation: inside the modal for htmx, as its own page otherwise."""
    in_modal = is_partial(request)
    ctx = {"tenant": tenant, "body_template": f"tenants/partials/_bcp_{body}.html", "in_modal": in_modal,
           "applications_url": _applications_url(tenant), **(context or {})}
    template = "tenants/partials/_bcp_modal.html" if in_modal else "tenants/bcp_page.html"
    return render(request, template, ctx, status=status)


def _posted_wizard_id(request) -> str | None:
    """A step's POST names the wizard run it belongs to: a form from an older run cannot act on this one."""
    return request.POST.get("wizard_id", "") if request.method == "POST" else None


def _problem(request, tenant, message: str, status: int = 409) -> HttpResponse:
    return _dialog(request, tenant, "problem", {"message": message}, status=status)


# --- turning BCP on: confirmation and the wizard ---------------------------------------------------------


@never_cache  # a passkey on screen must not come back from a cache or the Back button
@tm_required
@require_http_methods(["GET", "POST"])
def bcp_enable_view(request, tenant_id):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    state = bcp_state(tenant=tenant)
    if state.is_on:
        return _problem(request, tenant, _("BCP is already on for “%(tenant)s”.") % {"tenant": tenant})
    if request.method == "GET":
        return _dialog(request, tenant, "confirm_enable", {"bcp": state})
    if state.is_secondary:
        wizard = wizard_start(request, tenant=tenant, mode=MODE_SECONDARY, mapping_id=state.mapping.pk)
    else:
        wizard = wizard_start(request, tenant=tenant, mode=MODE_PRIMARY)
    return _settings_step(request, tenant, wizard, BcpSettingsForm(initial={}))


def _settings_step(request, tenant, wizard: WizardState, form, status: int = 200, error: str = "") -> HttpResponse:
    return _dialog(request, tenant, "step_settings", {"wizard": wizard, "form": form, "step_error": error},
                   status=status)


@never_cache  # a passkey on screen must not come back from a cache or the Back button
@tm_required
@require_http_methods(["GET", "POST"])
def bcp_wizard_settings_view(request, tenant_id):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    try:
        wizard = wizard_require(request, tenant=tenant, wizard_id=_posted_wizard_id(request))
    except WizardGone as exc:
        return _problem(request, tenant, exc.message)
    if request.method == "GET":
        form = BcpSettingsForm(initial={"configurations": wizard.configurations, "enablement": wizard.enablement})
        return _settings_step(request, tenant, wizard, form)
    form = BcpSettingsForm(request.POST)
    if not form.is_valid():
        return _settings_step(request, tenant, wizard, form, status=400)
    wizard.configurations = form.cleaned_data["configurations"]
    wizard.enablement = form.cleaned_data["enablement"]
    wizard.settings_done = True
    wizard_store(request, tenant=tenant, state=wizard)
    return _mapping_step(request, tenant, wizard)


def _mapping_step(request, tenant, wizard: WizardState, *, form=None, problems=(), passkey: str = "",
                  status: int = 200, changed: bool = False) -> HttpResponse:
    if wizard.mode == MODE_SECONDARY:
        mapping = (BcpMapping.objects.of_tenant(tenant, side=BcpMapping.Side.SECONDARY)
                   .select_related("primary__region").filter(pk=wizard.mapping_id).first())
        return _dialog(request, tenant, "step_mapping_secondary", {"wizard": wizard, "mapping": mapping},
                       status=status)
    regions = list(bcp_regions_available(primary=tenant))
    if form is not None and form.is_bound:
        region_raw = str(form.data.get("region") or "")
        region = Region.objects.filter(pk=region_raw).first() if region_raw.isdigit() else None
        if region is None:
            region = getattr(form, "cleaned_data", {}).get("region")  # taken from a pasted tenant ID
        chosen, pasted = form.data.get("dr_tenant", ""), form.data.get("dr_tenant_id", "")
    else:
        region = Region.objects.filter(pk=wizard.region_id).first() if wizard.region_id else None
        chosen, pasted = wizard.secondary_id or "", ""
    context = {
        "wizard": wizard, "form": form, "regions": regions, "region": region,
        "dr_tenants": dr_tenant_choices(primary=tenant, region=region), "chosen": str(chosen), "pasted": pasted,
        "problems": problems, "passkey": passkey, "changed": changed,
    }
    return _dialog(request, tenant, "step_mapping", context, status=status)


@never_cache  # a passkey on screen must not come back from a cache or the Back button
@tm_required
@require_http_methods(["GET", "POST"])
def bcp_wizard_mapping_view(request, tenant_id):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    try:
        wizard = wizard_require(request, tenant=tenant, wizard_id=_posted_wizard_id(request))
    except WizardGone as exc:
        return _problem(request, tenant, exc.message)
    if not wizard.settings_done:
        return _settings_step(request, tenant, wizard, BcpSettingsForm(initial={}), status=409,
                              error=_("Choose the BCP settings first, then click Next."))
    if request.method == "GET":
        return _mapping_step(request, tenant, wizard)
    if wizard.mode == MODE_SECONDARY:
        return _finish_secondary(request, tenant, wizard)
    return _mapping_post(request, tenant, wizard)


def _finish_secondary(request, tenant, wizard: WizardState) -> HttpResponse:
    if request.POST.get("action") != "finish":
        return _mapping_step(request, tenant, wizard, status=400)
    mapping = BcpMapping.objects.of_tenant(tenant, side=BcpMapping.Side.SECONDARY).filter(pk=wizard.mapping_id).first()
    if mapping is None:
        wizard_drop(request, tenant=tenant)
        return _problem(request, tenant, _("“%(tenant)s” is no longer mapped to a primary tenant. Nothing was "
                                           "saved.") % {"tenant": tenant})
    wizard.finished = True
    wizard_store(request, tenant=tenant, state=wizard)
    return redirect_after_save(request, _applications_url(tenant))


def _mapping_post(request, tenant, wizard: WizardState) -> HttpResponse:
    form = BcpMappingForm(request.POST)
    if not form.is_valid():
        wizard.forget_choice()
        wizard_store(request, tenant=tenant, state=wizard)
        return _mapping_step(request, tenant, wizard, form=form, status=400)
    action = form.cleaned_data["action"]
    region = form.cleaned_data["region"]
    dr_value = form.cleaned_data["dr_value"]
    secondary = dr_tenant_resolve(value=dr_value) if dr_value else None
    region_id = region.pk if region else None
    secondary_id = str(secondary.pk) if secondary else None

    if action == "validate":
        if not wizard.choice_matches(region_id=region_id, secondary_id=secondary_id):
            wizard.forget_choice()
        problems = mapping_validate(primary=tenant, secondary_id_or_tenant=dr_value or None, region=region)
        wizard.region_id, wizard.secondary_id = region_id, secondary_id
        wizard.validated = not problems
        if problems:
            wizard.passkey_hash = ""
        wizard_store(request, tenant=tenant, state=wizard)
        return _mapping_step(request, tenant, wizard, form=form, problems=problems, status=400 if problems else 200)

    # Generate Passkey and Finish act on what was validated, and only on that.
    if not wizard.validated:
        return _mapping_step(request, tenant, wizard, form=form, status=400, problems=[
            _("Click Validate first. The mapping must validate before you generate a passkey or finish.")])
    if not wizard.choice_matches(region_id=region_id, secondary_id=secondary_id):
        wizard.forget_choice()
        wizard_store(request, tenant=tenant, state=wizard)
        return _mapping_step(request, tenant, wizard, form=form, status=400, changed=True, problems=[
            _("The region or DR tenant changed after validation. Click Validate again.")])
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=secondary, region=region)
    if problems:
        wizard.forget_choice()
        wizard_store(request, tenant=tenant, state=wizard)
        return _mapping_step(request, tenant, wizard, form=form, problems=problems, status=400)

    if action == "passkey":
        passkey = passkey_generate()
        wizard.passkey_hash = passkey_hash(passkey)
        wizard_store(request, tenant=tenant, state=wizard)
        return _mapping_step(request, tenant, wizard, form=form, passkey=passkey)

    if not wizard.passkey_hash:
        return _mapping_step(request, tenant, wizard, form=form, status=400, problems=[
            _("Click Generate Passkey and store the passkey before you finish.")])
    wizard.finished = True
    wizard_store(request, tenant=tenant, state=wizard)
    return redirect_after_save(request, _applications_url(tenant))


@never_cache  # a passkey on screen must not come back from a cache or the Back button
@tm_required
@require_GET
def bcp_wizard_dr_tenants_view(request, tenant_id):
    """The DR Tenant list for the region just chosen under Available Regions."""
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    region_id = request.GET.get("region", "")
    region = bcp_regions_available(primary=tenant).filter(pk=region_id).first() if region_id.isdigit() else None
    context = {"tenant": tenant, "region": region, "dr_tenants": dr_tenant_choices(primary=tenant, region=region),
               "chosen": ""}
    return render(request, "tenants/partials/_bcp_dr_tenant_field.html", context)


@never_cache  # a passkey on screen must not come back from a cache or the Back button
@tm_required
@require_POST
def bcp_wizard_cancel_view(request, tenant_id):
    """Cancel in the pop-up, Escape, or Discard on the tab: the run is forgotten, nothing was stored."""
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    wizard_drop(request, tenant=tenant)
    if is_partial(request) and request.POST.get("from") != "tab":
        return HttpResponse("")  # empties the modal
    return redirect_after_save(request, _applications_url(tenant))


# --- Save on the tab ---------------------------------------------------------------------------------


@never_cache  # a passkey on screen must not come back from a cache or the Back button
@tm_required
@require_POST
def bcp_save_view(request, tenant_id):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    try:
        wizard = wizard_require(request, tenant=tenant, wizard_id=request.POST.get("wizard_id", ""))
        if not wizard.finished:
            raise WizardGone(_("Finish the BCP set-up in the pop-up before you save."))
    except WizardGone as exc:
        return tenant_page_render(request, tenant=tenant, tab="applications", bcp_error=exc.message, status=409)
    # The run is used up whatever happens next, so the same Save cannot be sent twice.
    wizard_drop(request, tenant=tenant)
    try:
        if wizard.mode == MODE_PRIMARY:
            _save_primary(request, tenant, wizard)
        else:
            _save_secondary(request, tenant, wizard)
    except ApplicationError as exc:
        return tenant_page_render(request, tenant=tenant, tab="applications", bcp_error=exc.message, status=409)
    return redirect_after_save(request, _applications_url(tenant))


def _save_primary(request, tenant, wizard: WizardState) -> None:
    secondary = Tenant.objects.select_related("region").filter(pk=wizard.secondary_id).first()
    region = Region.objects.filter(pk=wizard.region_id).first()
    if not wizard.validated or secondary is None or region is None:
        raise ApplicationError(_("This BCP set-up did not validate. Nothing was saved. Turn BCP on to start over."))
    mapping = mapping_create(primary=tenant, secondary=secondary, region=region, passkey_hash=wizard.passkey_hash,
                             configurations_enabled=wizard.configurations, enablement_enabled=wizard.enablement,
                             actor=Actor.from_request(request))
    messages.success(request, _("BCP is on: “%(primary)s” is mapped to the BCP tenant “%(secondary)s”. Now turn "
                                "BCP on for “%(secondary)s” too.")
                     % {"primary": mapping.primary, "secondary": mapping.secondary})


def _save_secondary(request, tenant, wizard: WizardState) -> None:
    mapping = BcpMapping.objects.of_tenant(tenant, side=BcpMapping.Side.SECONDARY).filter(pk=wizard.mapping_id).first()
    if mapping is None:
        raise ApplicationError(_("“%(tenant)s” is no longer mapped to a primary tenant. Nothing was saved.")
                               % {"tenant": tenant})
    mapping = mapping_enable_secondary(mapping=mapping, configurations_enabled=wizard.configurations,
                                       enablement_enabled=wizard.enablement,
                                       actor=Actor.from_request(request))
    messages.success(request, _("BCP is on for “%(tenant)s”, the BCP tenant of “%(primary)s”.")
                     % {"tenant": tenant, "primary": mapping.primary})


# --- a mapped tenant: new passkey, turning BCP off ---------------------------------------------------------


@never_cache  # a passkey on screen must not come back from a cache or the Back button
@tm_required
@require_http_methods(["GET", "POST"])
def bcp_passkey_view(request, tenant_id):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    state = bcp_state(tenant=tenant)
    if state.mapping is None:
        return _problem(request, tenant, _("“%(tenant)s” is not in a BCP pair, so it has no passkey.")
                        % {"tenant": tenant})
    if request.method == "GET":
        return _dialog(request, tenant, "confirm_passkey", {"bcp": state})
    try:
        passkey = mapping_passkey_replace(mapping=state.mapping, actor=Actor.from_request(request), from_tenant=tenant)
    except ApplicationError as exc:
        return _problem(request, tenant, exc.message)
    return _dialog(request, tenant, "passkey_new", {"bcp": state, "passkey": passkey})


@never_cache  # a passkey on screen must not come back from a cache or the Back button
@tm_required
@require_http_methods(["GET", "POST"])
def bcp_disable_view(request, tenant_id):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    state = bcp_state(tenant=tenant)
    if state.mapping is None:
        return _problem(request, tenant, _("BCP is already off for “%(tenant)s”.") % {"tenant": tenant})
    if request.method == "GET":
        return _dialog(request, tenant, "confirm_disable", {"bcp": state})
    try:
        mapping_remove(mapping=state.mapping, actor=Actor.from_request(request), from_tenant=tenant)
    except ApplicationError as exc:
        return _problem(request, tenant, exc.message)
    messages.success(request, _("BCP is off: “%(primary)s” and “%(secondary)s” are no longer mapped.")
                     % {"primary": state.mapping.primary, "secondary": state.mapping.secondary})
    return redirect_after_save(request, _applications_url(tenant))
