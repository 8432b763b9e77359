from django.utils.functional import SimpleLazyObject

from .menu import admin_menu


def navigation(request):
    return {
        "nav": getattr(request, "nav", None),
        "admin_menu": SimpleLazyObject(lambda: admin_menu(request)) if hasattr(request, "nav") else [],
    }
