"""Platform status in Tenant Management (account representatives only; 404 for everyone else), and Status
alerts on My Profile for the users of a tenant."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import Actor
from bcp_project.access import tm_required
from bcp_project.htmx import redirect_after_save, render_page_or_partial
from tenants.models import Region
from tenants.selectors import tenant_get

from . import selectors, services
from .forms import PlatformStatusForm, StatusAlertsForm, StatusSearchForm


@tm_required
@require_GET
def status_list_view(request):
    form = StatusSearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    statuses = selectors.platform_status_list(user=request.user, search=search)
    invalid = form.is_bound and not form.is_valid()
    if invalid:
        statuses = statuses.none()
    page = Paginator(statuses, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    databases = selectors.region_databases()
    regions = list(selectors.region_status_list())
    for region in regions:
        region.database = databases.get(region.code)
    context = {"form": form, "page": page, "search": search, "regions": regions,
               "databases_down": selectors.databases_down(databases)}
    return render_page_or_partial(request, "status/list.html", "status/partials/_status_table.html",
                                  context, status=400 if invalid else 200)


@tm_required
@require_http_methods(["GET", "POST"])
def region_status_view(request, region_code):
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise Http404
    return _status_page(request, region=region, name=region.label,
                        tenant_count=region.tenants.count(), url=reverse("status:region", args=[region.code]))


@tm_required
@require_http_methods(["GET", "POST"])
def tenant_status_view(request, tenant_id):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    return _status_page(request, tenant=tenant, name=tenant.name, tenant_count=1,
                        url=reverse("status:tenant", args=[tenant.pk]),
                        region_status=selectors.platform_status_of(region=tenant.region),
                        effective=selectors.effective_status(tenant=tenant))


def _status_page(request, *, name: str, tenant_count: int, url: str, region=None, tenant=None, **extra):
    current = selectors.platform_status_of(region=region, tenant=tenant)
    initial = {"level": current.level, "message": current.message} if current else {"level": "operational"}
    form = PlatformStatusForm(request.POST if request.method == "POST" else None, initial=initial)
    code = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                change = services.platform_status_set(region=region, tenant=tenant, level=form.cleaned_data["level"],
                                                    message=form.cleaned_data["message"],
                                                    actor=Actor.from_request(request))
            except services.StatusError as exc:
                exc.add_to(form)
            else:
                _say(request, change=change, name=name)
                return redirect_after_save(request, url)
        code = 400
    context = {"form": form, "region": region, "tenant": tenant, "name": name, "current": current,
               "tenant_count": tenant_count,
               "subscriber_count": selectors.subscriber_count(region=region, tenant=tenant), **extra}
    return render(request, "status/set.html", context, status=code)


def _say(request, *, change, name: str) -> None:
    level = change.status.get_level_display() if change.status else _("Operational")
    if not change.changed:
        messages.info(request, _("%(name)s already has the status %(level)s with this message. Nothing changed and "
                                 "no one was emailed.") % {"name": name, "level": level})
        return
    emailed = (ngettext("%(count)s subscriber is being emailed.", "%(count)s subscribers are being emailed.",
                        change.notified) % {"count": change.notified} if change.notified else
               _("No one subscribed to status alerts there, so no one is emailed."))
    messages.success(request, _("The status of %(name)s is now %(level)s.") % {"name": name, "level": level}
                     + " " + emailed)


@login_required
@require_http_methods(["GET", "POST"])
def status_alerts_view(request):
    user = request.user
    if user.tenant_id is None:
        raise Http404  # platform staff follow every status in Tenant Management
    subscribed = selectors.status_subscribed(user=user)
    form = StatusAlertsForm(request.POST if request.method == "POST" else None, initial={"subscribed": subscribed})
    if request.method == "POST" and form.is_valid():
        wanted = form.cleaned_data["subscribed"]
        changed = services.status_subscription_set(user=user, subscribed=wanted, actor=Actor.from_request(request))
        if not changed:
            messages.info(request, _("Nothing changed: you were already subscribed.") if wanted else
                          _("Nothing changed: you were not subscribed."))
        elif wanted:
            messages.success(request, _("You are subscribed to status alerts for “%(tenant)s”.")
                             % {"tenant": user.tenant.name})
        else:
            messages.success(request, _("You no longer get status alerts."))
        return redirect_after_save(request, reverse("status:alerts"))
    context = {"form": form, "subscribed": subscribed, "effective": selectors.effective_status(tenant=user.tenant)}
    return render(request, "status/alerts.html", context, status=400 if form.errors else 200)
