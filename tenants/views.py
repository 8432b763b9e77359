from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from audit.services import Actor
from bcp_project.access import tm_required
from bcp_project.exceptions import ApplicationError
from bcp_project.htmx import redirect_after_save, render_page_or_partial

from .bcp.tab import bcp_tab_context
from .forms import TenantCreateForm, TenantFilterForm
from .selectors import region_list, regions_not_answering, tenant_get, tenant_list
from .services import tenant_create

FEATURES = [
    # (key, label, description) — BCP is configured through its own wizard.
    ("bcp", gettext_lazy("Business Continuity Plan (BCP)"),
     gettext_lazy("Map this tenant to a backup tenant in another region and switch to it in an emergency.")),
]


@tm_required
def tenant_list_view(request):
    regions = list(region_list())
    form = TenantFilterForm(request.GET or None, regions=regions)
    search = region = state = ""
    if form.is_valid():
        search, region, state = form.cleaned_data["q"], form.cleaned_data["region"], form.cleaned_data["state"]
    tenants = tenant_list(user=request.user, search=search, region_code=region, state=state)
    # A filter we cannot apply (a region that does not exist) lists nothing rather than everything.
    invalid = form.is_bound and not form.is_valid()
    if invalid:
        tenants = tenants.none()
    page = Paginator(tenants, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    _mark_regions_down(page.object_list)
    context = {"form": form, "page": page, "search": search, "region": region, "state": state}
    return render_page_or_partial(request, "tenants/tenant_list.html", "tenants/partials/_tenant_table.html",
                                  context, status=400 if invalid else 200)


def _mark_regions_down(tenants) -> None:
    """Each tenant whose region's database does not answer gets `region_down` (its health): the list says so."""
    down = regions_not_answering()
    for tenant in tenants:
        tenant.region_down = down.get(tenant.region.code)


@tm_required
@require_http_methods(["GET", "POST"])
def tenant_create_view(request):
    form = TenantCreateForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                tenant = tenant_create(name=form.cleaned_data["name"], region=form.cleaned_data["region"],
                                       actor=Actor.from_request(request))
            except ApplicationError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("Tenant “%(name)s” is created.") % {"name": tenant.name})
                return redirect_after_save(request, reverse("tenants:detail", args=[tenant.pk]))
        status = 400
    return render(request, "tenants/tenant_create.html", {"form": form}, status=status)


@never_cache  # the BCP pop-up shows a passkey inside this page
@tm_required
def tenant_detail_view(request, tenant_id, tab="general"):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    return tenant_page_render(request, tenant=tenant, tab=tab)


def tenant_page_render(request, *, tenant, tab: str, bcp_error: str = "", status: int = 200):
    """The tenant page; on Applications & Features with BCP's state and any set-up waiting for Save."""
    context = {"tenant": tenant, "tab": tab, "features": FEATURES, "bcp_error": bcp_error}
    if tab == "applications":
        # A fresh GET means the representative left the wizard; only a finished set-up waits for Save.
        context.update(bcp_tab_context(request, tenant=tenant, drop_unfinished=request.method == "GET"))
    return render(request, "tenants/tenant_detail.html", context, status=status)
