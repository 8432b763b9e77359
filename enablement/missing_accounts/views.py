"""BC Enablement → People without an account: on the active BCP tenant, the primary's people who have no account
there, and the action that gives them one (BCP Tenant Enablement View to look, Edit to give)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import CHANGE_BCP_ENABLEMENT, VIEW_BCP_ENABLEMENT
from audit.services import Actor
from bcp_project.access import admin_required
from bcp_project.regions import region_label
from tenants.models import BcpMapping

from . import selectors, services

guard = admin_required(VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT)


def _mapping(tenant) -> BcpMapping:
    mapping = BcpMapping.objects.of_tenant(tenant).select_related("primary", "secondary").first()
    if mapping is None:
        raise Http404
    return mapping


def _refusal(tenant, mapping: BcpMapping) -> str:
    """Why accounts cannot be given from here now, or ""."""
    if mapping.secondary_id != tenant.pk:
        return _("Accounts on “%(bcp)s” are given there, by one of its administrators, while it is the active "
                 "tenant.") % {"bcp": mapping.secondary.name}
    return services.not_active_reason(mapping)


def _context(request, tenant, mapping, **extra) -> dict:
    refusal = _refusal(tenant, mapping)
    return {"tenant": tenant, "mapping": mapping, "refusal": refusal,
            "can_give": not refusal and request.nav.has(CHANGE_BCP_ENABLEMENT),
            "primary_down": "" if services.primary_answers(mapping) else region_label(selectors.primary_alias(mapping)),
            **extra}


def _list(request, tenant, mapping, *, error: str = "", status: int = 200):
    """The list: each person without an account, and whether the BCP tenant has a role of their role's name."""
    roles = selectors.bcp_roles_by_name(mapping=mapping)
    rows = [(person, person.role is None or person.role.name.lower() in roles)
            for person in selectors.missing_people(mapping=mapping)]
    return render(request, "enablement/missing_accounts.html",
                  _context(request, tenant, mapping, rows=rows, error=error), status=status)


@guard
@require_GET
def page(request, *, tenant):
    return _list(request, tenant, _mapping(tenant))


def _chosen(data) -> list[int] | None:
    """The people chosen (their ids on the primary); None when the request names none or names them wrongly."""
    values = data.getlist("person")
    if not values or not all(value.isdigit() and len(value) < 19 for value in values):
        return None
    return [int(value) for value in values]


@guard
@require_http_methods(["GET", "POST"])
def give(request, *, tenant):
    """GET: what each chosen person will get, to confirm. POST: gives it."""
    if not request.nav.has(CHANGE_BCP_ENABLEMENT):
        raise PermissionDenied
    mapping = _mapping(tenant)
    data = request.POST if request.method == "POST" else request.GET
    every = data.get("all") == "1" and request.method == "GET"
    chosen = None if every else _chosen(data)
    if chosen is not None and not selectors.all_of_the_primary(mapping=mapping, ids=chosen):
        chosen = None
    if _refusal(tenant, mapping):  # the list says why
        return _list(request, tenant, mapping, status=409)
    if chosen is None and not every:
        return _list(request, tenant, mapping, status=400,
                     error=_("Choose who gets an account from the list below, with its buttons."))
    if request.method == "GET":
        people = selectors.missing_people(mapping=mapping, ids=chosen)
        sides = services.agent_sides(mapping=mapping, people=people)
        rows = [(person, None if sides is None else sides.get(person.pk)) for person in people]
        return render(request, "enablement/missing_accounts_give.html",
                      _context(request, tenant, mapping, rows=rows))
    try:
        outcome = services.accounts_give(mapping=mapping, person_ids=chosen, actor=Actor.from_request(request))
    except services.AccountsError as exc:
        messages.error(request, exc.message)
        return redirect("enablement:accounts")
    _tell(request, mapping, outcome)
    return redirect("enablement:accounts")


def _names(people) -> str:
    return ", ".join(selectors.describe(person) for person in people)


def _tell(request, mapping: BcpMapping, outcome: services.Outcome) -> None:
    bcp = mapping.secondary.name
    if outcome.given:
        messages.success(request, ngettext(
            "%(names)s can sign in now, with their usual username and password: they have an account on “%(bcp)s”.",
            "%(names)s can sign in now, with their usual username and password: they have an account on “%(bcp)s”.",
            len(outcome.given)) % {"names": _names(outcome.given), "bcp": bcp})
    if outcome.settings_unread:
        messages.warning(request, _("The database of %(region)s is not answering, so the team and skills of "
                                    "%(names)s could not be copied. Set them under Admin → Users.")
                         % {"region": region_label(selectors.primary_alias(mapping)),
                            "names": _names(outcome.settings_unread)})
    for person, left_out in outcome.left_out:
        messages.warning(request, _("%(name)s: %(missing)s not on “%(bcp)s” (made after the last sync), so not "
                                    "given. Set their team and skills under Admin → Users.")
                         % {"name": selectors.describe(person), "missing": services.left_out_text(left_out),
                            "bcp": bcp})
    if outcome.already:
        messages.info(request, ngettext("%(names)s had an account on “%(bcp)s” already; it was left as it is.",
                                        "%(names)s had accounts on “%(bcp)s” already; they were left as they are.",
                                        len(outcome.already)) % {"names": _names(outcome.already), "bcp": bcp})
    for sentence in outcome.refused:
        messages.error(request, sentence)
