from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import health_report


@require_GET
@never_cache
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@login_required
def home(request):
    """Send each person to the application they use most."""
    nav = request.nav
    if nav.can_tm:
        return redirect("tenants:list")
    if nav.admin_tenant is not None:
        return redirect("accounts:admin_home")
    return redirect("accounts:profile")
