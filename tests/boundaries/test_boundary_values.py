"""Boundary values through every form, then every page that shows them.

Issue 15's six bugs had one cause: a value was checked where it was saved, not against every place that later
reads it (a date that overflowed a sum, a text too tall for a PDF table, a username too long for a lockout
table ...). This test closes that class of bug rather than its instances:

1. Every form of the application is listed in FORMS below (a form class of ours that no row reaches fails the
   test, unless NOT_SUBMITTED says why). For each, the page that shows it is opened like a browser would; the
   fields to vary come from the Django form objects the page was rendered with (formset rows included), so a new
   field is covered without editing this file.
2. Each field gets boundary values chosen by its type and its own limits (tests/boundaries/values.py): the
   longest text the field accepts (and one character more), long texts of words, of one unbreakable word and of
   emoji, control characters, NUL, right-to-left and combining characters, emoji, markup; far past and far
   future dates; the smallest and largest integers and past 64 bits; every choice and ids that do not exist.
3. Values are batched: submission k of a form carries the k-th value of every field at once. A field the form
   refuses must be named with a message in a 4xx answer (never a 500, never a 200 that saved nothing), and the
   refused fields go back to a plain value and the form is sent again, so that what it accepts is saved.
4. After every batch the sync copies the tenant to its BCP tenant, and every page reachable by link is
   rendered: as the tenant's administrator (lists, edit pages, the plan, its print view and PDF, versions and
   comparisons, drills, sync history and changes, BC Enablement), as the account representative (TM, the
   audit log, platform status) and as the administrator's copy on the BCP tenant; at the end the pair switches
   to the BCP tenant and its pages are rendered once more. No page may answer 500.

The number of form x field x value cases is printed (run with -s to see it) and asserted to stay large.
"""

import csv
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.forms import NON_FIELD_ERRORS
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from audit.services import Actor
from continuity.models import Drill, Procedure
from tests.auditlog import audit_events
from tests.boundaries.browser import TIMINGS, Failures, crawl, page_forms, parse, request
from tests.boundaries.values import boundary_values, text_values
from tests.sync.conftest import configured, mapping, run_sync, sync_enabled  # noqa: F401
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

OUR_APPS = {"accounts", "audit", "contactcenter", "continuity", "enablement", "sync", "status", "tenants",
            "bcp_project"}


@dataclass
class FormCase:
    """One form: the page that shows it, who opens it, and which of the page's forms (by the view it posts to)."""

    name: str
    page: Callable  # ctx -> URL of the page showing the form
    posts_to: str  # URL name the HTML form's action resolves to ("" = the page itself)
    persona: str = "admin"  # admin | rep | anonymous
    fill: Callable = lambda ctx, k: {}  # noqa: E731  values a plain submission needs that the empty form lacks
    method: str = "post"
    changes_on_refusal: bool = False  # a refusal is itself recorded (wrong passkeys count towards a limit)
    refusal_status: int = 400  # the lowest status of a refusal: sign-in answers a wrong password 200, as Django does
    before: Callable = lambda client, ctx: None  # noqa: E731  what a person does before the page shows the form
    nth: int = 0  # which of the page's forms posting to `posts_to`


def _url(name, *args):
    return lambda ctx: reverse(name, args=[a(ctx) if callable(a) else a for a in args])


def _plain(ctx, k, case):
    return f"Plain {case} {k}"


def _section(section):
    return _url("continuity:item_create", section)


def _hours_fill(ctx, k):
    return {"name": f"Plain hours {k}", "timezone": "Europe/Berlin"}


def _wizard_started(client, ctx):
    client.post(reverse("tenants:bcp_enable", args=[ctx.unmapped.pk]))


def _wizard_at_mapping(client, ctx):
    _wizard_started(client, ctx)
    url = reverse("tenants:bcp_settings", args=[ctx.unmapped.pk])
    form = next(f for f in parse(client.get(url), "http://testserver" + url).forms if f.action.endswith(url))
    client.post(url, {**dict(form.values), "configurations": "on"})


FORMS: list[FormCase] = [
    # Admin → the contact-center configuration (contactcenter/registry.py), one row per registered type.
    FormCase("team", _url("contactcenter:team_create"), "contactcenter:team_create",
             fill=lambda ctx, k: {"name": f"Plain team {k}"}),
    FormCase("skill", _url("contactcenter:skill_create"), "contactcenter:skill_create",
             fill=lambda ctx, k: {"name": f"Plain skill {k}"}),
    FormCase("hours", _url("contactcenter:hours_create"), "contactcenter:hours_create", fill=_hours_fill),
    FormCase("point of contact", _url("contactcenter:poc_create"), "contactcenter:poc_create",
             fill=lambda ctx, k: {"name": f"Plain line {k}", "channel": "phone", "address": f"+1415555{k:04d}"}),
    FormCase("disposition", _url("contactcenter:disposition_create"), "contactcenter:disposition_create",
             fill=lambda ctx, k: {"name": f"Plain disposition {k}"}),
    FormCase("unavailable code", _url("contactcenter:unavailable_create"), "contactcenter:unavailable_create",
             fill=lambda ctx, k: {"name": f"Plain code {k}"}),
    FormCase("tag", _url("contactcenter:tag_create"), "contactcenter:tag_create",
             fill=lambda ctx, k: {"name": f"Plain tag {k}"}),
    FormCase("user", _url("contactcenter:user_create"), "contactcenter:user_create",
             fill=lambda ctx, k: {"username": f"plain.user.{k}", "password": "a-Plain-passw0rd-that-is-long"}),
    # The list pages' search and filters.
    *[FormCase(f"{slug} filter", _url(f"contactcenter:{slug}_list"), f"contactcenter:{slug}_list", method="get")
      for slug in ("user", "team", "skill", "hours", "poc", "disposition", "unavailable", "tag")],
    # Roles and permissions.
    FormCase("role", _url("accounts:role_create"), "accounts:role_create",
             fill=lambda ctx, k: {"name": f"Plain role {k}"}),
    FormCase("role details", _url("accounts:role_details", lambda ctx: ctx.role.pk), "accounts:role_details",
             fill=lambda ctx, k: {"name": f"Boundary role {k}"}),
    FormCase("role permissions", _url("accounts:role_permissions", lambda ctx: ctx.role.pk, "bcp"),
             "accounts:role_permissions"),
    FormCase("role search", _url("accounts:role_list"), "accounts:role_list", method="get"),
    # The continuity plan: its sections, a procedure's steps, drills and their actions, settings, Rehearse.
    FormCase("critical system", _section("systems"), "continuity:item_create",
             fill=lambda ctx, k: {"name": f"Plain system {k}"}),
    FormCase("plan team", _section("teams"), "continuity:item_create",
             fill=lambda ctx, k: {"name": f"Plain plan team {k}"}),
    FormCase("emergency contact", _section("contacts"), "continuity:item_create",
             fill=lambda ctx, k: {"name": f"Plain contact {k}", "phone": "+14155550123"}),
    FormCase("procedure", _section("procedures"), "continuity:item_create",
             fill=lambda ctx, k: {"name": f"Plain procedure {k}"}),
    FormCase("activation trigger", _section("triggers"), "continuity:item_create",
             fill=lambda ctx, k: {"name": f"Plain trigger {k}"}),
    FormCase("procedure step", _url("continuity:step_create", lambda ctx: ctx.procedure.pk), "continuity:step_create",
             fill=lambda ctx, k: {"text": f"Plain step {k}"}),
    FormCase("drill", _url("continuity:drill_create"), "continuity:drill_create",
             fill=lambda ctx, k: {"held_on": "2026-01-15", "scenario": f"Plain scenario {k}"}),
    FormCase("drill edit", _url("continuity:drill_edit", lambda ctx: ctx.drill().pk), "continuity:drill_edit",
             fill=lambda ctx, k: {"held_on": "2026-01-15", "scenario": f"Edited scenario {k}"}),
    FormCase("follow-up action", _url("continuity:drill", lambda ctx: ctx.drill().pk), "continuity:action_create",
             fill=lambda ctx, k: {"description": f"Plain action {k}", "due_on": "2026-03-01"}),
    FormCase("plan settings", _url("continuity:settings"), "continuity:settings"),
    FormCase("rehearse", _url("continuity:drills"), "continuity:rehearse", changes_on_refusal=True,
             fill=lambda ctx, k: {"passkey": "WRONG-PASSKEY", "confirm": "on"}),
    FormCase("compare versions", _url("continuity:compare", lambda ctx: 1), "continuity:compare", method="get"),
    # Sync Configuration.
    FormCase("sync settings", _url("sync:configuration"), "sync:settings"),
    FormCase("sync custom selection", lambda ctx: reverse("sync:configuration") + "?tab=custom", "sync:settings"),
    FormCase("sync history filter", _url("sync:history"), "sync:history", method="get"),
    FormCase("correlation lookup", _url("sync:correlations"), "sync:correlations", method="get"),
    # BC Enablement: the message for everyone in the pair (then shown on every page), and a wrong passkey (the
    # switch itself is the end of this test).
    FormCase("pair message", _url("enablement:page"), "enablement:message_set",
             fill=lambda ctx, k: {"text": f"Plain message {k}"}),
    FormCase("switch", _url("enablement:page"), "enablement:switch", changes_on_refusal=True,
             fill=lambda ctx, k: {"passkey": "WRONG-PASSKEY", "confirm": "on"}),
    # My Profile.
    FormCase("language", _url("accounts:profile"), "accounts:profile"),
    FormCase("switch emails", _url("accounts:profile"), "accounts:profile_switch_emails"),
    FormCase("status alerts", _url("status:alerts"), "status:alerts"),
    # TM.
    FormCase("tenant", _url("tenants:create"), "tenants:create", persona="rep",
             fill=lambda ctx, k: {"name": f"Plain tenant {k}"}),
    FormCase("tenant search", _url("tenants:list"), "tenants:list", persona="rep", method="get"),
    FormCase("audit filter", _url("audit:list"), "audit:list", persona="rep", method="get"),
    FormCase("status search", _url("status:list"), "status:list", persona="rep", method="get"),
    FormCase("BCP wizard settings", _url("tenants:bcp_settings", lambda ctx: ctx.unmapped.pk), "tenants:bcp_settings",
             persona="rep", fill=lambda ctx, k: {"configurations": "on"}, before=_wizard_started),
    FormCase("BCP wizard mapping", _url("tenants:bcp_mapping", lambda ctx: ctx.unmapped.pk), "tenants:bcp_mapping",
             persona="rep", fill=lambda ctx, k: {"action": "validate"}, before=_wizard_at_mapping),
    # Sign-in, as someone who is not signed in (each wrong password counts towards the lockout).
    FormCase("sign-in", _url("accounts:login"), "accounts:login", persona="anonymous", changes_on_refusal=True,
             refusal_status=200,
             fill=lambda ctx, k: {"username": "nobody", "password": "wrong"}),
    # Platform status last: an outage replaces the tenant's pages, so it is set back after each batch's pages.
    FormCase("region status", _url("status:region", "na"), "status:region", persona="rep",
             fill=lambda ctx, k: {"level": "operational"}),
    FormCase("tenant status", _url("status:tenant", lambda ctx: ctx.tenant.pk), "status:tenant", persona="rep",
             fill=lambda ctx, k: {"level": "operational"}),
]

# Forms no row above submits, each with the reason.
NOT_SUBMITTED = {
    "MoveForm": "one choice of up/down, sent by buttons, no text",
    "SystemDrillForm": "a rehearsal's notes: its two fields are DrillForm's participants and findings",
    "UploadForm": "the CSV import: _import_users sends files of boundary values, row by row, instead",
}


def our_form_classes() -> set[str]:
    """The names of every form class defined in the application's own modules."""
    import django.contrib.auth.forms  # noqa: F401  (the sign-in form's parent)
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports every view module, and with them every form)
    found, todo = set(), [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.split(".")[0] in OUR_APPS and not cls.__subclasses__():
            found.add(cls.__name__)  # a base class (SectionForm, ConfigForm) is covered by its subclasses
    return found


@dataclass
class Outcome:
    cases: int = 0  # form x field x value
    accepted: int = 0
    refused: int = 0
    submissions: int = 0
    forms_seen: set = field(default_factory=set)
    problems: list = field(default_factory=list)


def _matching_forms(response, html_form) -> list[forms.BaseForm]:
    names = html_form.names
    matched = []
    for form in page_forms(response):
        if isinstance(form, forms.BaseForm) and any(form.add_prefix(f) in names for f in form.fields):
            matched.append(form)
    return matched


def _find_form(response, url: str, case: FormCase):
    found = []
    for html_form in parse(response, "http://testserver" + url).forms:
        action = html_form.action.replace("http://testserver", "")
        if html_form.method == case.method and resolve(action.split("?")[0]).view_name == case.posts_to:
            found.append((html_form, action))
    return found[case.nth] if len(found) > case.nth else (None, None)


def _errors(response) -> tuple[dict[str, list[str]], list[str]]:
    """Field errors by the field's name in the request, and the errors not tied to a field."""
    by_field, general = {}, []
    for form in page_forms(response):
        if not form.is_bound:
            continue
        for name, messages in form.errors.items():
            if name == NON_FIELD_ERRORS:
                general += messages
            else:
                by_field[form.add_prefix(name)] = messages
    if getattr(response, "context", None) is not None:
        for formset in (v for c in response.context for d in getattr(c, "dicts", []) if isinstance(d, dict)
                        for v in d.values() if isinstance(v, forms.BaseFormSet)):
            general += formset.non_form_errors()
    return by_field, general


def _snapshot():
    return audit_events().count()


def _submit_batch(client, ctx, case: FormCase, k: int, outcome: Outcome, failures: Failures) -> None:
    where = f"{case.name} batch {k}"
    page_url = case.page(ctx)
    case.before(client, ctx)
    page = request(client, "get", page_url, failures, where)
    if page is None:
        return
    assert page.status_code == 200, f"{where}: {page_url} answered {page.status_code}"
    html_form, action = _find_form(page, page_url, case)
    assert html_form is not None, f"{where}: no <form method={case.method}> posting to {case.posts_to} on {page_url}"
    django_forms = _matching_forms(page, html_form)
    if not django_forms:
        # A form written by hand in the template: every control it has is text as far as a browser is concerned.
        hand_written = forms.Form()
        hand_written.fields = {name: forms.CharField(required=False)
                               for name in sorted(html_form.names - html_form.hidden)}
        django_forms = [hand_written]
    outcome.forms_seen |= {type(f).__name__ for f in django_forms}

    baseline: dict[str, list] = {}
    for name, value in html_form.values:
        baseline.setdefault(name, []).append(value)
    for name, value in html_form.buttons[:1]:
        baseline.setdefault(name, [value])
    for name, value in case.fill(ctx, k).items():
        baseline[name] = [value]

    varied: dict[str, tuple[str, object]] = {}
    for form in django_forms:
        for name, form_field in form.fields.items():
            html_name = form.add_prefix(name)
            if form_field.widget.is_hidden or html_name in html_form.hidden or html_name in dict(html_form.buttons):
                continue  # what a browser sends as it got it: a formset's row count, a wizard's id, a button's value
            values = boundary_values(form_field)
            assert len(values) <= BATCHES, f"{where}: {name} has more values than BATCHES; raise BATCHES"
            if k < len(values):
                varied[form.add_prefix(name)] = values[k]
    if not varied:
        return

    data = dict(baseline)
    for name, (_label, value) in varied.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    pending = dict(varied)
    for _attempt in range(len(varied) + 2):
        before = _snapshot()
        outcome.submissions += 1
        send = {name: values for name, values in data.items()}
        response = request(client, case.method, action, failures, where, data=send)
        if response is None:
            outcome.cases += len(pending)
            return
        outcome.forms_seen |= {type(f).__name__ for f in page_forms(response)}
        if response.status_code < 400 and case.method == "post":
            by_field, general = _errors(response) if response.status_code == 200 else ({}, [])
            if (by_field or general) and case.refusal_status == 200:
                text = response.content.decode()
                outcome.problems += [f"{where}: the message {message!r} is not on the page"
                                     for messages in [*by_field.values(), general] for message in messages
                                     if escape(message) not in text]
                outcome.cases += len(pending)
                outcome.refused += len(pending)
                return
            if by_field or general:
                outcome.problems.append(f"{where}: refused {sorted(by_field) or general} but answered 200")
            outcome.cases += len(pending)
            outcome.accepted += len(pending)
            return
        if case.method == "get":
            outcome.cases += len(pending)
            outcome.accepted += len(pending)
            return
        by_field, general = _errors(response)
        if not case.changes_on_refusal and _snapshot() != before and response.status_code != 409:
            outcome.problems.append(f"{where}: refused with {response.status_code} but recorded a change")
        text = response.content.decode()
        for messages in [*by_field.values(), general]:
            for message in messages:
                if escape(message) not in text:
                    outcome.problems.append(f"{where}: the message {message!r} is not on the page")
        refused = [name for name in by_field if name in pending]
        if not refused:
            # Refused as a whole (a rule across fields, a limit of tries): every value was answered, none saved.
            if not by_field and not general and not text.strip():
                outcome.problems.append(f"{where}: {response.status_code} without a message")
            outcome.cases += len(pending)
            outcome.refused += len(pending)
            return
        for name in refused:
            outcome.cases += 1
            outcome.refused += 1
            del pending[name]
            if name in baseline:
                data[name] = baseline[name]
            else:
                data.pop(name, None)
    outcome.problems.append(f"{where}: still refused after restoring every refused field")


def _import_users(client, ctx, k: int, outcome: Outcome, failures: Failures) -> None:
    """The CSV import: one row per column and value (the file is all or nothing, so refused rows are dropped and
    the rest imported), plus files that are wrong as a whole."""
    from contactcenter.forms import AgentForm
    from contactcenter.user_import.services import COLUMNS

    upload_url, confirm_url = reverse("contactcenter:users_import"), reverse("contactcenter:users_import_confirm")
    agent_fields = AgentForm(tenant=ctx.tenant).fields
    plain = {"username": "", "role": "Agent"}
    rows = []
    for column in COLUMNS:
        values = boundary_values(agent_fields[column]) if column in agent_fields else text_values(200)
        if k < len(values):
            label, value = values[k]
            value = value if isinstance(value, str) else (value[0] if value else "")
            row = {**plain, "username": f"import.{k}.{column}", column: value}
            rows.append(row)
    files = [("rows", rows)]
    if k == 0:
        files += [("not UTF-8", b"username,role\n\xff\xfe\xfa,Agent\n"), ("NUL", b"username,role\nab\x00c,Agent\n"),
                  ("BOM only", b"\xef\xbb\xbf"), ("empty", b""), ("header only", b"username,role\n"),
                  ("quote never closed", b'username,role\n"abc,Agent\n')]
    for label, content in files:
        if isinstance(content, list):
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(content)
            content = buffer.getvalue().encode()
        where = f"user import batch {k} ({label})"
        response = request(client, "post", upload_url, failures, where,
                           data={"file": SimpleUploadedFile("users.csv", content, content_type="text/csv")})
        outcome.submissions += 1
        outcome.cases += len(rows) if label == "rows" else 1
        if response is None or label != "rows":
            continue
        check = response.context["check"] if response.status_code in (200, 400) and "check" in response.context \
            else None
        if check is not None and not check.ok:
            bad = {row.line - 2 for row in check.bad_rows}
            outcome.refused += len(bad)
            rows = [row for i, row in enumerate(rows) if i not in bad]
            if not rows:
                continue
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
            response = request(client, "post", upload_url, failures, where,
                               data={"file": SimpleUploadedFile("users.csv", buffer.getvalue().encode())})
        if response is None or response.status_code != 200:
            continue
        outcome.accepted += len(rows)
        request(client, "post", confirm_url, failures, where, data={"token": response.context["token"]})


@pytest.fixture
def ctx(configured, sync_enabled, bcp_tenant, rep, region_na):  # noqa: F811
    from accounts.services import role_create
    from continuity.models import ActivationTrigger, CriticalSystem, EmergencyContact, PlanTeam
    from tests.factories import TenantFactory

    admin = User.objects.get(username="alice", is_bcp_copy=False)
    sections = {model.ENTITY_TYPE: model for model in (CriticalSystem, PlanTeam, EmergencyContact, Procedure,
                                                      ActivationTrigger)}
    role = role_create(tenant=configured, name="Boundary role", actor=Actor.system())
    return SimpleNamespace(
        tenant=configured, bcp_tenant=bcp_tenant, admin=admin, rep=rep, role=role, sections=sections,
        plan_rows={key: set(model.objects.filter(tenant=configured).values_list("pk", flat=True))
                   for key, model in sections.items()},
        unmapped=TenantFactory(name="Unmapped Ltd.", region=region_na),
        procedure=Procedure.objects.filter(tenant=configured).order_by("position").first(),
        drill=lambda: Drill.objects.filter(tenant=configured).order_by("pk").first(),
    )


def _clients(ctx) -> dict[str, Client]:
    clients = {"admin": Client(), "rep": Client(), "anonymous": Client()}
    clients["admin"].force_login(ctx.admin)
    clients["rep"].force_login(ctx.rep)
    return clients


ADMIN_PAGES = ["home", "accounts:admin_home", "accounts:profile", "continuity:plan", "continuity:print",
               "continuity:pdf", "continuity:versions", "continuity:drills", "sync:configuration", "sync:history",
               "sync:changes", "enablement:page", "status:alerts"]
REP_PAGES = ["tenants:list", "audit:list", "status:list"]


def _render_everything(ctx, clients, failures: Failures, k: int, bcp_client: Client) -> int:
    pages = crawl(clients["admin"], [reverse(name) for name in ADMIN_PAGES], failures, f"admin pages, batch {k}")
    pages |= crawl(clients["rep"], [reverse(name) for name in REP_PAGES] + [
        reverse("tenants:detail", args=[ctx.tenant.pk]), reverse("tenants:detail", args=[ctx.bcp_tenant.pk])],
        failures, f"TM pages, batch {k}")
    pages |= crawl(bcp_client, [reverse(name) for name in ADMIN_PAGES], failures, f"BCP tenant's pages, batch {k}")
    return len(pages)


def _switch_to_bcp(ctx):
    from enablement.services import tenant_switch
    from tenants.bcp.services import passkey_generate, passkey_hash
    from tenants.models import BcpMapping

    pair = BcpMapping.objects.get(primary=ctx.tenant)
    passkey = passkey_generate()  # the fixture's passkey was not kept; a new one is what a representative gives
    # BCP turned on for the BCP tenant too (the wizard's second run), as tests/enablement/conftest.py does.
    BcpMapping.objects.filter(pk=pair.pk).update(passkey_hash=passkey_hash(passkey),
                                                 secondary_enabled_at=timezone.now())
    pair.refresh_from_db()
    # The representative switches: the administrator has used up the tries with wrong passkeys above.
    tenant_switch(mapping=pair, to_side=BcpMapping.Side.SECONDARY, passkey=passkey, actor=Actor(user=ctx.rep),
                  force=True, reason="Boundary test", on_behalf=True)


def _remove_plan_rows(ctx):
    """The plan's rows this test made, removed once their pages were rendered: the plan, its print view and PDF
    show every row, and a PDF of all the batches' long texts at once takes minutes without showing more."""
    from continuity.plan.services import EDITABLE, section_item_delete

    for key, model in ctx.sections.items():
        for obj in model.objects.filter(tenant=ctx.tenant).exclude(pk__in=ctx.plan_rows[key]):
            section_item_delete(tenant=ctx.tenant, section_key=key, obj=obj, actor=Actor.system())
    assert set(ctx.sections) == set(EDITABLE)


def _sync_everything(ctx):
    from sync.models import SyncConfiguration
    from sync.services import sync_settings_save

    configuration = SyncConfiguration.objects.get(mapping__primary=ctx.tenant)
    if configuration.custom:
        sync_settings_save(configuration=configuration, frequency=configuration.frequency, custom=False,
                           entity_types=[], actor=Actor.system())


def _reset_status(ctx):
    from status.services import platform_status_set

    for target in ({"region": ctx.tenant.region}, {"tenant": ctx.tenant}):
        platform_status_set(level="operational", message="", actor=Actor.system(), **target)


# Pages are rendered after every few batches: the values of a create form pile up (each batch makes new records),
# so they are all on the pages then; an edit form's value shows until the next batch replaces it.
PAGES_EVERY = 4
BATCHES = int(os.environ.get("BOUNDARY_BATCHES", 0)) or 13  # the longest list of values a field gets


@pytest.mark.django_db
def test_boundary_values_are_refused_with_a_message_or_render_everywhere(ctx):
    failures, outcome = Failures(), Outcome()
    clients = _clients(ctx)
    bcp_client = Client()
    pages = 0
    for k in range(BATCHES):
        _reset_status(ctx)  # an outage set by the last batch would stand between the administrator and the forms
        started = time.monotonic()
        _import_users(clients["admin"], ctx, k, outcome, failures)
        for case in FORMS:
            # Someone not signed in stays so: a boundary username and password may be a real account by now.
            client = Client() if case.persona == "anonymous" else clients[case.persona]
            case_started = time.monotonic()
            _submit_batch(client, ctx, case, k, outcome, failures)
            TIMINGS[f"submit {case.name}"] = TIMINGS.get(f"submit {case.name}", 0.0) + time.monotonic() - case_started
        submitted = time.monotonic()
        if k % PAGES_EVERY != PAGES_EVERY - 1 and k != BATCHES - 1:
            print(f"batch {k}: submit {submitted - started:.1f}s")
            continue
        _sync_everything(ctx)  # the custom selection may have left out users or the plan: the copy carries all
        run = run_sync(ctx.tenant)
        if run.status != "succeeded":
            failures.append(f"sync after batch {k}: {run.status} {run.errors}")
        synced = time.monotonic()
        bcp_client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
        pages += _render_everything(ctx, clients, failures, k, bcp_client)
        _remove_plan_rows(ctx)
        print(f"batch {k}: submit {submitted - started:.1f}s, sync {synced - submitted:.1f}s, "
              f"pages {time.monotonic() - synced:.1f}s")
    _reset_status(ctx)
    # The switch: the BCP tenant becomes the active one, and its people sign in there.
    _switch_to_bcp(ctx)
    bcp_client = Client()
    bcp_client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    pages += len(crawl(bcp_client, [reverse(name) for name in ADMIN_PAGES], failures, "BCP tenant after the switch"))
    print(f"\nboundary values: {outcome.cases} form x field x value cases in {outcome.submissions} submissions "
          f"({outcome.accepted} accepted, {outcome.refused} refused); {pages} page renders; "
          f"forms: {', '.join(sorted(outcome.forms_seen))}")
    slowest = sorted(TIMINGS.items(), key=lambda item: -item[1])[:8]
    print("slowest pages: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in slowest))
    uncovered = our_form_classes() - outcome.forms_seen - set(NOT_SUBMITTED)
    assert not uncovered, f"No row of FORMS submits {sorted(uncovered)}: add one (or a reason to NOT_SUBMITTED)"
    assert not failures, f"{len(failures)} requests answered 500:\n" + "\n".join(failures[:40])
    assert not outcome.problems, "\n".join(outcome.problems[:40])
    assert outcome.cases > 1000  # 1,400 or so today: fewer means a form or its fields are no longer reached
