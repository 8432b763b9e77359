"""The one place that decides whether a request wants a partial, and how to answer after an htmx save."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect


def is_partial(request: HttpRequest) -> bool:
    """True for an htmx request that is not a full-page navigation (boosted links want the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page_or_partial(request, page: str, partial: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, partial if is_partial(request) else page, context, status=status)


def redirect_after_save(request, url: str) -> HttpResponse:
    from django.shortcuts import redirect

    if is_partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)
