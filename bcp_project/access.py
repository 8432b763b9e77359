"""The view guards every app uses: Tenant Management pages and Admin pages.

Someone who may not know a page exists gets 404; someone who may look but not change, 403. The guards read
`request.nav` (accounts.navigation.Navigation, attached by accounts' middleware), so they import no app.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .regions import in_region

_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def tm_required(view):
    """Tenant Management pages: account representatives only."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.nav.can_tm:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view_perm: str | None = None, change_perm: str | None = None):
    """Admin pages of the tenant the person works in. Needs `view_perm` there to see the page (any Admin
    access when None; 404 otherwise) and, when given, `change_perm` for any POST (403 otherwise). The view
    receives `tenant` as a keyword."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            nav = request.nav
            if nav.admin_tenant is None or (view_perm is not None and not nav.has(view_perm)):
                raise Http404
            if request.method not in _SAFE_METHODS and change_perm and not nav.has(change_perm):
                raise PermissionDenied
            # Queries without a tenant of their own go to this tenant's region (bcp_project.regions).
            with in_region(nav.admin_tenant):
                return view(request, *args, tenant=nav.admin_tenant, **kwargs)

        return wrapper

    return decorator


def tenant_member_required(change_perm: str | None = None, *, editors_only: bool = False):
    """Pages every member of a tenant reads (agents too), and a representative while impersonating it: anyone
    else signed in gets 404. With `change_perm`, a POST needs it (403 otherwise); with `editors_only` as well, so
    does every request (a page that only shows a form helps nobody who may only read). The view receives
    `tenant`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            tenant = request.nav.tenant
            if tenant is None:
                raise Http404
            needs_change = editors_only or request.method not in _SAFE_METHODS
            if needs_change and change_perm and not request.nav.has(change_perm):
                raise PermissionDenied
            with in_region(tenant):
                return view(request, *args, tenant=tenant, **kwargs)

        return wrapper

    return decorator
