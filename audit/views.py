from django.conf import settings
from django.core.paginator import Paginator

from bcp_project.access import tm_required
from bcp_project.htmx import render_page_or_partial

from .forms import AuditFilterForm
from .selectors import audit_event_list


@tm_required
def audit_list_view(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_event_list(user=request.user, **{k: v for k, v in filters.items() if v})
    if form.is_bound and not form.is_valid():
        events = events.none()
    page = Paginator(events, settings.PAGE_SIZE * 2).get_page(request.GET.get("page"))
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render_page_or_partial(request, "audit/audit_list.html", "audit/partials/_audit_table.html",
                                  {"form": form, "page": page}, status=status)
