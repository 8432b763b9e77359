"""Roles and Permissions in the Admin application: list, create, the Permissions and Details tabs, delete."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import Actor
from bcp_project.access import admin_required
from bcp_project.htmx import redirect_after_save, render_page_or_partial
from bcp_project.permissions import MANAGE_ROLES

from .role_forms import SECTIONS, SECTIONS_BY_SLUG, PermissionSectionForm, RoleForm, RoleSearchForm, permission_label
from .selectors import role_get, role_list
from .services import RoleError, role_create, role_delete, role_permissions, role_set_permissions, role_update

manage_roles_required = admin_required(MANAGE_ROLES, MANAGE_ROLES)


def _context(tenant, **extra) -> dict:
    return {"tenant": tenant, **extra}


@manage_roles_required
@require_GET
def role_list_view(request, *, tenant):
    form = RoleSearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(role_list(tenant=tenant, search=search), settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page_or_partial(request, "accounts/roles/role_list.html", "accounts/roles/partials/_role_table.html",
                                  _context(tenant, form=form, page=page, search=search))


@manage_roles_required
@require_http_methods(["GET", "POST"])
def role_create_view(request, *, tenant):
    form = RoleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                role = role_create(tenant=tenant, name=form.cleaned_data["name"],
                                   description=form.cleaned_data["description"],
                                   actor=Actor.from_request(request))
            except RoleError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("Role “%(role)s” is created. Now choose what it may do.") % {
                    "role": role.name})
                return redirect_after_save(request, reverse("accounts:role_detail", args=[role.pk]))
        status = 400
    return render(request, "accounts/roles/role_create.html", _context(tenant, form=form), status=status)


def _still_manages_roles(request, role, granted: set[str]) -> bool:
    """False when the people saving just took Manage roles away from themselves."""
    if request.impersonation is not None:
        return True
    return request.user.role_id != role.pk or MANAGE_ROLES in granted


@manage_roles_required
@require_http_methods(["GET", "POST"])
def role_permissions_view(request, role_id, section="general", *, tenant):
    role = role_get(tenant=tenant, role_id=role_id)
    current_section = SECTIONS_BY_SLUG.get(section)
    if current_section is None:
        raise Http404
    current = role_permissions(role=role)
    initial = {codename: codename in current for codename in current_section.codenames}
    form = PermissionSectionForm(request.POST or None, initial=initial, section=current_section)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            selected = form.selected()
            try:
                granted = role_set_permissions(role=role, permissions=selected, scope=current_section.codenames,
                                               actor=Actor.from_request(request))
            except RoleError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The permissions of “%(role)s” are saved.") % {"role": role.name})
                expected = (current - current_section.codenames) | selected
                also = sorted(permission_label(c) for c in granted - expected)
                if also:
                    messages.info(request, _("Also turned on, because a chosen permission needs them: %(list)s.")
                                  % {"list": ", ".join(also)})
                if not _still_manages_roles(request, role, granted):
                    return redirect_after_save(request, reverse("home"))
                url = reverse("accounts:role_permissions", args=[role.pk, current_section.slug])
                return redirect_after_save(request, url)
        status = 400
    context = _context(tenant, role=role, form=form, section=current_section, sections=SECTIONS, tab="permissions")
    return render(request, "accounts/roles/role_permissions.html", context, status=status)


@manage_roles_required
@require_http_methods(["GET", "POST"])
def role_details_view(request, role_id, *, tenant):
    role = role_get(tenant=tenant, role_id=role_id)
    form = RoleForm(request.POST or None, initial={"name": role.name, "description": role.description})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                role_update(role=role, name=form.cleaned_data["name"], description=form.cleaned_data["description"],
                            actor=Actor.from_request(request))
            except RoleError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("Role “%(role)s” is saved.") % {"role": role.name})
                return redirect_after_save(request, reverse("accounts:role_details", args=[role.pk]))
        status = 400
    return render(request, "accounts/roles/role_details.html", _context(tenant, role=role, form=form, tab="details"),
                  status=status)


@manage_roles_required
@require_http_methods(["GET", "POST"])
def role_delete_view(request, role_id, *, tenant):
    role = role_get(tenant=tenant, role_id=role_id)
    error = None
    if request.method == "POST":
        name = role.name
        try:
            role_delete(role=role, actor=Actor.from_request(request))
        except RoleError as exc:
            error = exc.message
        else:
            messages.success(request, _("Role “%(role)s” is deleted.") % {"role": name})
            return redirect_after_save(request, reverse("accounts:role_list"))
    return render(request, "accounts/roles/role_delete.html", _context(tenant, role=role, error=error),
                  status=400 if error else 200)
