"""Impersonate & Support: the confirmation, the start and the End button."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bcp_project.access import tm_required
from bcp_project.htmx import redirect_after_save
from bcp_project.templatetags.times import when_text

from ..selectors import tenant_get
from .services import ImpersonationError, impersonation_end, impersonation_start


@tm_required
@require_http_methods(["GET", "POST"])
def impersonation_start_view(request, tenant_id):
    tenant = tenant_get(user=request.user, tenant_id=tenant_id)
    error = None
    if request.method == "POST":
        try:
            impersonation_start(request=request, tenant=tenant)
        except ImpersonationError as exc:
            error = exc.message
        else:
            messages.success(request, _("You are now supporting “%(tenant)s”. This ends by itself at %(time)s.")
                             % {"tenant": tenant.name,
                                "time": when_text(request.impersonation.expires_at)})
            return redirect_after_save(request, reverse("accounts:admin_home"))
    elif not tenant.is_active:
        error = _("“%(tenant)s” is inactive, so it cannot be impersonated. Set it to active first.") % {
            "tenant": tenant.name}
    context = {"tenant": tenant, "error": error, "current": request.impersonation,
               "max_age_minutes": int(settings.IMPERSONATION_MAX_AGE.total_seconds() // 60)}
    return render(request, "tenants/support/start_confirm.html", context, status=400 if request.method == "POST"
                  else 200)


@tm_required
@require_POST
def impersonation_end_view(request):
    ended = impersonation_end(request=request)
    if ended is None:
        messages.info(request, _("You were not supporting any tenant."))
        return redirect("tenants:list")
    messages.success(request, _("You stopped supporting “%(tenant)s”.") % {"tenant": ended.tenant.name})
    return redirect_after_save(request, reverse("tenants:detail", args=[ended.tenant.pk]))
