"""View guards. Someone who may not know a page exists gets 404; someone who may look but not change, 403."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .roles import ACCESS_ADMIN


def tm_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if not request.nav.can_tm:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view_perm: str = ACCESS_ADMIN, change_perm: str | None = None):
    """Needs `view_perm` in the Admin tenant to see the page (404 otherwise) and, when given,
    `change_perm` for any POST (403 otherwise). The view receives `tenant` as a keyword."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            nav = request.nav
            if nav.admin_tenant is None or not nav.has(view_perm):
                raise Http404
            if request.method not in ("GET", "HEAD", "OPTIONS") and change_perm and not nav.has(change_perm):
                raise PermissionDenied
            return view(request, *args, tenant=nav.admin_tenant, **kwargs)

        return wrapper

    return decorator
