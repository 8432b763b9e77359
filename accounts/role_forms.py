"""The Permissions tab: which permissions sit in which section and row, and the forms of the role pages."""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from bcp_project import permissions


@dataclass(frozen=True)
class PermissionRow:
    label: object
    help: object = ""
    view: str | None = None
    edit: str | None = None


@dataclass(frozen=True)
class PermissionSection:
    slug: str
    label: object
    rows: tuple[PermissionRow, ...]

    @property
    def codenames(self) -> set[str]:
        return {c for row in self.rows for c in (row.view, row.edit) if c}


VIEW = pgettext_lazy("permission level", "View")
EDIT = pgettext_lazy("permission level", "Edit")


def _labelled(row_label, level) -> str:
    return gettext("%(permission)s: %(level)s") % {"permission": row_label, "level": level}

SECTIONS = (
    PermissionSection("general", _("General"), (
        PermissionRow(_("Admin access"), _("Open this tenant's Admin application."), view=permissions.ACCESS_ADMIN),
        PermissionRow(_("Manage roles"), _("Create and delete roles and change what each role may do."),
                      edit=permissions.MANAGE_ROLES),
        PermissionRow(_("Configuration"), _("Teams, skills, agent settings and the rest of the contact-center set-up."),
                      view=permissions.VIEW_CONFIGURATION, edit=permissions.CHANGE_CONFIGURATION),
    )),
    PermissionSection("bcp", _("BCP"), (
        PermissionRow(_("BCP Configurations"),
                      _("Sync Configuration: which data is copied to the BCP tenant, and how often."),
                      view=permissions.VIEW_BCP_CONFIGURATIONS, edit=permissions.CHANGE_BCP_CONFIGURATIONS),
        PermissionRow(_("BCP Tenant Enablement"),
                      _("BC Enablement: switching the active tenant between the primary and the BCP tenant."),
                      view=permissions.VIEW_BCP_ENABLEMENT, edit=permissions.CHANGE_BCP_ENABLEMENT),
    )),
)
SECTIONS_BY_SLUG = {section.slug: section for section in SECTIONS}


def permission_label(codename: str) -> str:
    for section in SECTIONS:
        for row in section.rows:
            if codename == row.view:
                return _labelled(row.label, VIEW)
            if codename == row.edit:
                return _labelled(row.label, EDIT)
    return codename


class PermissionSectionForm(forms.Form):
    """One checkbox per permission of a section, named after its codename."""

    def __init__(self, *args, section: PermissionSection, **kwargs):
        super().__init__(*args, **kwargs)
        self.section = section
        for row in section.rows:
            for codename, column in ((row.view, VIEW), (row.edit, EDIT)):
                if codename:
                    self.fields[codename] = forms.BooleanField(required=False, label=_labelled(row.label, column))
        for row in section.rows:
            # Ticking Edit ticks View in the browser too (the server enforces it either way).
            if row.view and row.edit:
                self.fields[row.edit].widget.attrs["data-implies"] = f"id_{row.view}"

    @property
    def table(self) -> list[dict]:
        return [
            {"row": row, "view": self[row.view] if row.view else None, "edit": self[row.edit] if row.edit else None}
            for row in self.section.rows
        ]

    def selected(self) -> set[str]:
        return {codename for codename, value in self.cleaned_data.items() if value}


class RoleSearchForm(forms.Form):
    q = forms.CharField(label=_("Search roles"), required=False, max_length=80,
                        widget=forms.SearchInput(attrs={"placeholder": _("Name or description")}))


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(label=_("Description"), max_length=255, required=False,
                                  help_text=_("What people with this role do; shown in the list of roles."))
