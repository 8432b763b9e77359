"""The plan's versions, the compare page, the print view and the PDF: everyone in the tenant reads them (agents
included), a representative while impersonating it; nobody changes anything here."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bcp_project.access import tenant_member_required
from bcp_project.htmx import render_page_or_partial
from bcp_project.templatetags.times import when_text

from ..plan.views import or_backup_copy
from . import selectors
from .pdf import plan_pdf
from .snapshots import compare, has_differences

VERSIONS_PER_PAGE = 25
MAX_CHOICES = 200  # versions offered in the compare page's list; any other is reachable by its number
guard = tenant_member_required()


@guard
@require_GET
def version_list(request, *, tenant):
    page = Paginator(selectors.version_list(tenant=tenant), VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    copy = None
    if not page.object_list:
        current = selectors.current_edition(tenant=tenant)
        copy = current if current.is_copy else None
    return render_page_or_partial(request, "continuity/versions/list.html", "continuity/partials/_version_table.html",
                                  {"page": page, "tenant": tenant, "copy": copy})


@guard
@require_GET
def version_detail(request, *, tenant, number):
    edition = selectors.version_edition(tenant=tenant, number=number)
    return render(request, "continuity/versions/detail.html", {"edition": edition, "tenant": tenant})


def _compare_error(request, tenant, old, message):
    return render(request, "continuity/versions/compare.html",
                  {"tenant": tenant, "subject": old.number, "old": old, "error": message,
                   "choices": _choices(tenant)}, status=400)


def _choices(tenant):
    return list(selectors.version_list(tenant=tenant).values_list("number", flat=True)[:MAX_CHOICES])


@guard
@require_GET
def version_compare(request, *, tenant, number):
    old = selectors.version_edition(tenant=tenant, number=number)
    other = request.GET.get("with", "").strip()
    if other:
        if not (other.isascii() and other.isdigit()):
            return _compare_error(request, tenant, old,
                                  _("“%(value)s” is not a version number. Choose one from the list of versions.")
                                  % {"value": other[:20]})
        found = selectors.version_list(tenant=tenant).filter(number=int(other)).exists()
        if not found:
            return _compare_error(request, tenant, old,
                                  _("This plan has no version %(number)s. Choose one from the list of versions.")
                                  % {"number": int(other)})
        new = selectors.version_edition(tenant=tenant, number=int(other))
        if new.number < old.number:  # the differences always read from the older to the newer
            old, new = new, old
    else:
        new = selectors.current_edition(tenant=tenant)
    diffs = compare(old.snapshot, new.snapshot)
    return render(request, "continuity/versions/compare.html",
                  {"tenant": tenant, "subject": number, "old": old, "new": new, "diffs": diffs,
                   "with_number": int(other) if other else None,
                   "differs": has_differences(diffs), "choices": _choices(tenant)})


def _current(request, tenant, show):
    """`show(edition)` for the current plan, or for the copy on the BCP tenant while the primary's region does not
    answer (continuity.plan.views.or_backup_copy)."""
    return or_backup_copy(request, tenant, lambda copy: show(
        selectors.current_edition(tenant=tenant) if copy is None else selectors.backup_edition(copy=copy)))


def _print(request, tenant, edition, pdf_url):
    printed_at = timezone.now()
    printed = _("Printed %(when)s") % {"when": when_text(printed_at)}
    return render(request, "continuity/versions/print.html",
                  {"tenant": tenant, "edition": edition, "printed_at": printed_at, "pdf_url": pdf_url,
                   "footer": f"{tenant.name} · {edition.line} · {printed}",
                   "plan_url": request.build_absolute_uri(reverse("continuity:print"))})


@guard
@require_GET
def print_current(request, *, tenant):
    return _current(request, tenant, lambda edition: _print(request, tenant, edition, reverse("continuity:pdf")))


@guard
@require_GET
def print_version(request, *, tenant, number):
    return _print(request, tenant, selectors.version_edition(tenant=tenant, number=number),
                  reverse("continuity:version_pdf", args=[number]))


def _pdf(request, edition):
    response = HttpResponse(plan_pdf(edition=edition, printed_at=timezone.now(),
                                     url=request.build_absolute_uri(reverse("continuity:print"))),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{edition.filename()}"'
    response["Cache-Control"] = "private, no-store"
    return response


@guard
@require_GET
def pdf_current(request, *, tenant):
    return _current(request, tenant, lambda edition: _pdf(request, edition))


@guard
@require_GET
def pdf_version(request, *, tenant, number):
    return _pdf(request, selectors.version_edition(tenant=tenant, number=number))
