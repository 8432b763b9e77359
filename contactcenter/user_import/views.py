"""Admin → Import users: upload a CSV, see every row checked, then import all of it or nothing.

Between the preview and the import the file waits in the server-side session (compressed, at most
MAX_BYTES before compression), under a random token that the Import form sends back: an import
always imports the file whose preview the administrator looked at, and is checked again first.
"""

import base64
import secrets
import zlib

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import Actor
from bcp_project.access import admin_required
from bcp_project.exceptions import ApplicationError
from bcp_project.permissions import CHANGE_CONFIGURATION, VIEW_CONFIGURATION

from ..models import PROFICIENCY_MAX, PROFICIENCY_MIN
from .services import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    ImportFileError,
    check_rows,
    read_rows,
    template_csv,
    users_import,
)

PAGE = "contactcenter/import/users_import.html"
SESSION_KEY = "contactcenter.user_import"
SHOWN_ROWS = 1000  # a preview longer than this shows the first rows and says how many more there are
TEMPLATE_FILENAME = "users-import-template.csv"

guard = admin_required(VIEW_CONFIGURATION, CHANGE_CONFIGURATION)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"), allow_empty_file=True,
        help_text=gettext_lazy("UTF-8, comma-separated, at most 2 MB and 5,000 users."),
        error_messages={"required": gettext_lazy("Choose a CSV file to upload."),
                        "invalid": gettext_lazy("Choose a CSV file to upload.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB. Split it into smaller files of at most %(rows)s users each.")
                % {"size": MAX_BYTES // (1024 * 1024), "rows": MAX_ROWS})
        return upload


def _column_help() -> list[tuple[str, bool, str]]:
    descriptions = {
        "username": _("What the user signs in with: letters, digits and @ . + - _; unique in this tenant."),
        "first_name": _("Optional."),
        "last_name": _("Optional."),
        "email": _("Optional; a valid email address."),
        "role": _("The name of one of this tenant's roles, e.g. Agent or Supervisor."),
        "team": _("Optional; the name of an existing team."),
        "skills": _("Optional; existing skills with a proficiency from %(min)s (best) to %(max)s, separated by "
                    "semicolons: Billing:2;Chat:5") % {"min": PROFICIENCY_MIN, "max": PROFICIENCY_MAX},
        "active": _("Optional; yes or no (empty means yes). Inactive users cannot sign in."),
    }
    return [(name, name in REQUIRED_COLUMNS, descriptions[name]) for name in COLUMNS]


def _context(request, **extra) -> dict:
    return {"can_change": request.nav.has(CHANGE_CONFIGURATION), "columns": _column_help(),
            "max_rows": MAX_ROWS, "max_megabytes": MAX_BYTES // (1024 * 1024), "shown_rows": SHOWN_ROWS, **extra}


def _preview(check) -> dict:
    rows = check.rows if check.ok else check.bad_rows
    return {"check": check, "shown": rows[:SHOWN_ROWS], "hidden_count": max(0, len(rows) - SHOWN_ROWS)}


def _remember(request, *, tenant, content: bytes, filename: str) -> str:
    token = secrets.token_urlsafe(16)
    request.session[SESSION_KEY] = {
        "token": token, "tenant": str(tenant.pk), "filename": filename[:200],
        "content": base64.b64encode(zlib.compress(content)).decode("ascii"),
    }
    return token


def _recall(request, *, tenant, token: str) -> tuple[bytes, str] | None:
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("tenant") != str(tenant.pk) or not constant_time_compare(pending["token"], token):
        return None
    try:
        content = zlib.decompress(base64.b64decode(pending["content"]))
    except (zlib.error, ValueError):
        return None
    return content, pending.get("filename", "")


def _forget(request) -> None:
    request.session.pop(SESSION_KEY, None)


@guard
@require_http_methods(["GET", "POST"])
def users_import_view(request, *, tenant):
    """GET: the format and the upload form. POST: the preview of the uploaded file."""
    if request.method == "GET":
        return render(request, PAGE, _context(request, form=UploadForm()))
    _forget(request)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, PAGE, _context(request, form=form), status=400)
    upload = form.cleaned_data["file"]
    content = upload.read(MAX_BYTES + 1)
    try:
        rows = read_rows(content)
    except ImportFileError as exc:
        form.add_error("file", exc.message)
        return render(request, PAGE, _context(request, form=form), status=400)
    check = check_rows(tenant=tenant, rows=rows)
    token = _remember(request, tenant=tenant, content=content, filename=upload.name) if check.ok else ""
    context = _context(request, form=UploadForm(), filename=upload.name, token=token, **_preview(check))
    return render(request, PAGE, context, status=200 if check.ok else 400)


@guard
@require_POST
def users_import_confirm(request, *, tenant):
    """Imports the file whose preview carried this token, after checking it again."""
    pending = _recall(request, tenant=tenant, token=request.POST.get("token", ""))
    if pending is None:
        context = _context(request, form=UploadForm(),
                           error=_("This preview is no longer available (it was replaced by another upload, or it "
                                   "expired). Upload the file again."))
        return render(request, PAGE, context, status=400)
    content, filename = pending
    try:
        users = users_import(tenant=tenant, content=content, actor=Actor.from_request(request))
    except ApplicationError as exc:
        # The tenant changed since the preview: show the rows as they are now.
        _forget(request)
        try:
            preview = _preview(check_rows(tenant=tenant, rows=read_rows(content)))
        except ImportFileError:
            preview = {}
        context = _context(request, form=UploadForm(), filename=filename, token="", error=exc.message, **preview)
        return render(request, PAGE, context, status=409)
    _forget(request)
    messages.success(request, ngettext(
        "%(count)s user was imported. Set a password for each on their page before they sign in.",
        "%(count)s users were imported. Set a password for each on their page before they sign in.",
        len(users)) % {"count": len(users)})
    return redirect("contactcenter:user_list")


@guard
@require_GET
def users_import_template(request, *, tenant):
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_FILENAME}"'
    return response
