"""A small generic CRUD layer (NetBox style): each configuration type is declared once as a `ConfigType`
(selectors, form, services, columns, filters) and gets a list, a create/edit and a delete page.

Who may do what comes from the tenant role: view_configuration to see the pages (404 otherwise),
change_configuration to save or delete (403 for a POST without it; no buttons are shown).
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Subquery
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.services import Actor
from bcp_project.access import admin_required
from bcp_project.exceptions import ApplicationError
from bcp_project.htmx import redirect_after_save, render_page_or_partial
from bcp_project.permissions import CHANGE_CONFIGURATION, VIEW_CONFIGURATION

from .forms import FilterForm
from .selectors import no_usage

PAGE = "contactcenter/object_list.html"
TABLE = "contactcenter/partials/_object_table.html"
EDIT = "contactcenter/object_edit.html"
DELETE = "contactcenter/object_delete.html"


@dataclass(frozen=True)
class Column:
    label: object  # a lazy translation
    value: Callable[[object], object]
    numeric: bool = False


@dataclass
class ConfigType:
    key: str  # url names: contactcenter:<key>_list, _create, _edit, _delete
    slug: str  # url path segment
    label: object
    label_plural: object
    model: type
    form: type
    list: Callable  # selector(tenant=, search=, **filters) -> QuerySet
    get: Callable  # selector(tenant=, pk=) -> object or 404
    create: Callable  # service(tenant=, request=, **form data)
    update: Callable  # service(obj, request=, **form data)
    delete: Callable  # service(obj, request=)
    columns: list[Column]
    usage: Callable = no_usage
    filters: Callable = lambda tenant: {}  # noqa: E731
    search_help: object = ""
    form_template: str = "contactcenter/partials/_form_fields.html"
    empty_help: object = ""
    menu_order: int = 100
    title: Callable = str  # object -> the heading of its edit page
    # More buttons beside "Add" on the list page for those who can change: (label, url name).
    list_actions: tuple = ()
    # (object, request) -> a sentence why this person may not delete it at all, or "" (the service still checks).
    delete_refusal: Callable = lambda obj, request: ""  # noqa: E731
    # (rows of one page, tenant) -> the rows, with what lives in another database attached in one query.
    decorate: Callable = lambda rows, tenant: rows  # noqa: E731

    def url_name(self, action: str) -> str:
        return f"contactcenter:{self.key}_{action}"

    def urls(self) -> list:
        return [
            path(f"{self.slug}/", list_view(self), name=f"{self.key}_list"),
            path(f"{self.slug}/new/", edit_view(self), name=f"{self.key}_create"),
            path(f"{self.slug}/<int:pk>/", edit_view(self), name=f"{self.key}_edit"),
            path(f"{self.slug}/<int:pk>/delete/", delete_view(self), name=f"{self.key}_delete"),
        ]

    def make_form(self, request, *, tenant, obj):
        data = request.POST if request.method == "POST" else None
        if obj is not None:
            # A model form writes into its instance: give it a copy, the service compares the original.
            return self.form(data, tenant=tenant, instance=copy.copy(obj))
        if issubclass(self.form, forms.ModelForm):
            return self.form(data, tenant=tenant, instance=self.model(tenant=tenant))
        return self.form(data, tenant=tenant)


guard = admin_required(VIEW_CONFIGURATION, CHANGE_CONFIGURATION)


def _context(request, spec: ConfigType, **extra) -> dict:
    names = {action: spec.url_name(action) for action in ("list", "create", "edit", "delete")}
    return {"spec": spec, "names": names, "can_change": request.nav.has(CHANGE_CONFIGURATION), **extra}


def list_view(spec: ConfigType):
    @guard
    def view(request, *, tenant):
        form = FilterForm(request.GET or None, extra_fields=spec.filters(tenant))
        search = form.cleaned_data["q"] if form.is_valid() else ""
        selected = form.selected()
        queryset = spec.list(tenant=tenant, search=search, **selected)
        page = Paginator(queryset, settings.PAGE_SIZE).get_page(request.GET.get("page"))
        if page.paginator.count:
            # Per-row figures (counts of users, skills...) are subqueries; reaching a later page would make
            # the database compute them for every row it skips. Pick the page's rows first, then annotate.
            window = queryset.values("pk")[page.start_index() - 1:page.end_index()]
            page.object_list = queryset.filter(pk__in=Subquery(window))
        page.object_list = spec.decorate(page.object_list, tenant=tenant)
        rows = []
        for obj in page.object_list:
            cells = [(column, column.value(obj)) for column in spec.columns]
            rows.append((obj, cells[0][1], cells))
        context = _context(request, spec, form=form, page=page, rows=rows, filtered=bool(search or selected))
        return render_page_or_partial(request, PAGE, TABLE, context)

    view.__name__ = f"{spec.key}_list"
    return view


def edit_view(spec: ConfigType):
    @guard
    @require_http_methods(["GET", "POST"])
    def view(request, *, tenant, pk=None):
        obj = spec.get(tenant=tenant, pk=pk) if pk is not None else None
        can_change = request.nav.has(CHANGE_CONFIGURATION)
        if obj is None and not can_change:
            raise PermissionDenied  # an empty form that cannot be saved helps nobody who may only look
        form = spec.make_form(request, tenant=tenant, obj=obj)
        if not can_change:
            form.disable()
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    data = form.service_data()
                    if obj is None:
                        obj = spec.create(tenant=tenant, actor=Actor.from_request(request), **data)
                    else:
                        obj = spec.update(obj, actor=Actor.from_request(request), **data)
                except ApplicationError as exc:
                    exc.add_to(form)
                else:
                    messages.success(request, _("%(type)s “%(name)s” is saved.")
                                     % {"type": capfirst(spec.label), "name": spec.title(obj)})
                    return redirect_after_save(request, reverse(spec.url_name("list")))
            status = 400
        context = _context(request, spec, form=form, object=obj, title=spec.title(obj) if obj else "")
        return render(request, EDIT, context, status=status)

    view.__name__ = f"{spec.key}_edit"
    return view


def delete_view(spec: ConfigType):
    @guard
    @require_http_methods(["GET", "POST"])
    def view(request, *, tenant, pk):
        obj = spec.get(tenant=tenant, pk=pk)
        if not request.nav.has(CHANGE_CONFIGURATION):
            raise PermissionDenied  # the page asks to confirm a deletion this person cannot make
        error, status = "", 200
        if request.method == "POST":
            name = spec.title(obj)
            try:
                spec.delete(obj, actor=Actor.from_request(request))
            except ApplicationError as exc:
                error, status = exc.message, 409
            else:
                messages.success(request, _("%(type)s “%(name)s” is deleted.")
                                 % {"type": capfirst(spec.label), "name": name})
                return redirect_after_save(request, reverse(spec.url_name("list")))
        usage = spec.usage(obj)
        refusal = spec.delete_refusal(obj, request)
        context = _context(request, spec, object=obj, title=spec.title(obj), usage=usage,
                           blocked=any(u.blocks for u in usage), refusal=refusal, error=error)
        return render(request, DELETE, context, status=status)

    view.__name__ = f"{spec.key}_delete"
    return view


@dataclass
class Registry:
    types: list[ConfigType] = field(default_factory=list)

    def register(self, spec: ConfigType) -> ConfigType:
        self.types.append(spec)
        return spec

    def urls(self) -> list:
        return [pattern for spec in self.types for pattern in spec.urls()]
