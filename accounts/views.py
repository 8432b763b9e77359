import math
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import Actor
from bcp_project.access import admin_required
from bcp_project.exceptions import ApplicationError
from bcp_project.permissions import (
    CHANGE_BCP_CONFIGURATIONS,
    CHANGE_BCP_ENABLEMENT,
    MANAGE_ROLES,
    TENANT_PERMISSIONS,
    VIEW_BCP_CONFIGURATIONS,
    VIEW_BCP_ENABLEMENT,
)
from bcp_project.templatetags.times import when_text
from tenants.bcp.selectors import bcp_state

from .forms import LanguageForm, SignInForm, SwitchEmailsForm
from .selectors import role_managers, switch_emails_wanted
from .services import user_set_language, user_set_switch_emails


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The routing middleware (enablement) sends a session here after its BCP pair switched.
        context["switched"] = self.request.GET.get("reason") == "switched"
        return context


class SignOutView(auth_views.LogoutView):
    pass


def _lockout_ends_at(request, credentials):
    from axes.helpers import get_client_username
    from axes.models import AccessAttempt

    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")
    attempt = (
        AccessAttempt.objects.filter(username=username, ip_address=address)
        .order_by("-attempt_time")
        .first()
    )
    last = attempt.attempt_time if attempt else timezone.now()
    return last + settings.AXES_COOLOFF_TIME


def signin_locked_out(request, original_response=None, credentials=None):
    """Shown instead of the sign-in result once too many attempts failed (django-axes)."""
    ends_at = _lockout_ends_at(request, credentials)
    seconds_left = max(1, math.ceil((ends_at - timezone.now()).total_seconds()))
    minutes = max(1, math.ceil(seconds_left / 60))
    # Round the time shown up to the minute: "after 21:30" must not come before the lock ends.
    shown_at = ends_at + timedelta(seconds=59, microseconds=999_999)
    form = SignInForm(request, initial={"username": request.POST.get("username", "")})
    message = _(
        "Too many failed sign-ins for this username from your address. Try again after %(time)s "
        "(in about %(minutes)s minutes), or ask your administrator to reset your password."
    ) % {"time": when_text(shown_at), "minutes": minutes}
    response = render(request, "accounts/sign_in.html", {"form": form, "lockout_message": message}, status=429)
    response["Retry-After"] = str(seconds_left)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    # Bound on every POST, even an empty one, so that a POST without a language is a form error too.
    form = LanguageForm(request.POST if request.method == "POST" else None, initial={"language": user.language})
    if request.method == "POST":
        if form.is_valid():
            try:
                user_set_language(user=user, language=form.cleaned_data["language"],
                                  actor=Actor.from_request(request))
            except ApplicationError as exc:
                form.add_error("language", exc.message)
            else:
                from django.utils import translation

                translation.activate(user.language)
                request.session["_language"] = user.language
                messages.success(request, _("Your language is saved."))
                response = redirect("accounts:profile")
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax",
                                    secure=settings.SESSION_COOKIE_SECURE, httponly=True)
                return response
        status = 400
    else:
        status = 200
    return _profile_page(request, form=form, status=status)


def _profile_page(request, *, form=None, emails_form=None, status=200):
    user = request.user
    if form is None:
        form = LanguageForm(initial={"language": user.language})
    if emails_form is None:
        emails_form = SwitchEmailsForm(initial={"switch_emails": switch_emails_wanted(user=user)})
    return render(request, "accounts/profile.html", {"form": form, "emails_form": emails_form, "profile_user": user},
                  status=status)


@login_required
@require_POST
def profile_switch_emails(request):
    form = SwitchEmailsForm(request.POST)
    if not form.is_valid():  # a checkbox is never invalid; kept so that a new field's errors show
        return _profile_page(request, emails_form=form, status=400)
    on = form.cleaned_data["switch_emails"]
    user_set_switch_emails(user=request.user, on=on, actor=Actor.from_request(request))
    messages.success(request, _("You will be emailed when your organization switches tenant.") if on else
                     _("You will not be emailed when your organization switches tenant. Tick the box again to get "
                       "those emails."))
    return redirect("accounts:profile")


# The BCP permissions, in the order Roles and Permissions lists them, with the page each one opens.
BCP_PERMISSIONS = (
    (VIEW_BCP_CONFIGURATIONS, CHANGE_BCP_CONFIGURATIONS, _lazy("Sync Configuration")),
    (VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT, _lazy("BC Enablement")),
)


def _bcp_permissions_missing(request, bcp) -> dict | None:
    """What a member of a BCP pair lacks to see and change its BCP pages, and who can grant it; None when nothing
    is missing (or the tenant is in no pair). A newly mapped pair's Administrator role has none of them."""
    nav = request.nav
    if bcp.mapping is None:
        return None
    labels = dict(TENANT_PERMISSIONS)
    missing, hidden, read_only = [], [], []
    for view, change, page in BCP_PERMISSIONS:
        missing += [labels[codename] for codename in (view, change) if not nav.has(codename)]
        if not nav.has(view):
            hidden.append(page)
        elif not nav.has(change):
            read_only.append(page)
    if not missing:
        return None
    role = nav.user.role
    can_grant = nav.has(MANAGE_ROLES)
    return {
        "permissions": missing, "hidden": hidden, "read_only": read_only, "role": role, "can_grant": can_grant,
        "grant_url": reverse("accounts:role_permissions", args=[role.pk, "bcp"]) if can_grant else "",
        "managers": ", ".join(str(person) for person in ([] if can_grant else
                                                          role_managers(tenant=nav.tenant, exclude=nav.user))),
    }


@admin_required()
def admin_home(request, *, tenant):
    bcp = bcp_state(tenant=tenant)
    return render(request, "accounts/admin_home.html", {
        "tenant": tenant, "bcp": bcp, "bcp_missing": _bcp_permissions_missing(request, bcp),
    })
