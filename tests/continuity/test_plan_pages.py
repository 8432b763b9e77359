"""The plan page and its editing pages, for every persona, and what they show."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMINISTRATOR, AGENT
from audit.services import Actor
from continuity.models import CriticalSystem, EmergencyContact, Plan, PlanTeam, PlanVersion, Procedure
from continuity.plan import services
from tests.factories import UserFactory, role_of
from tests.permissions import GET, POST, Row, answers, ask, cases
from tests.queries import CaptureQueriesEverywhere

CONTACT = EmergencyContact.ENTITY_TYPE


def path_args(name: str, *, pk=1, step=1, section="systems") -> list:
    """The arguments of the path of one of the plan's URL names ("item_edit"): its section, row and step."""
    return {
        "plan": [], "plan_start": [],
        "item_create": [section], "item_edit": [section, pk], "item_remove": [section, pk],
        "item_move": [section, pk], "contact_reviewed": [pk],
        "step_create": [pk], "step_edit": [pk, step], "step_remove": [pk, step], "step_move": [pk, step],
    }[name]


def url_for(name: str, *, pk=1, step=1, section="systems") -> str:
    return reverse(f"continuity:{name}", args=path_args(name, pk=pk, step=step, section=section))


# url name, method, then the answer per persona in the order of PERSONAS: anonymous, agent, supervisor,
# tenant_admin (Edit), other_admin (Edit, on a tenant without a plan), rep (not impersonating); given: which row of
# Classics Inc.'s plan its ids name; form data.
FORM = answers(302, 403, 403, 200, 404, 404)
CHANGE = answers(302, 403, 403, 302, 404, 404)
URLS = [
    Row("continuity:plan", GET, answers(302, 200, 200, 200, 200, 404)),
    Row("continuity:plan_start", POST, answers(302, 403, 403, 409, 302, 404)),
    Row("continuity:item_create", GET, answers(302, 403, 403, 200, 302, 404)),
    Row("continuity:item_create", POST, answers(302, 403, 403, 302, 302, 404), data={"name": "Dialler"}),
    Row("continuity:item_edit", GET, FORM, given="system"),
    Row("continuity:item_edit", POST, CHANGE, given="system", data={"name": "IVR", "recovery_time_goal": "5"}),
    Row("continuity:item_remove", GET, FORM, given="system"),
    Row("continuity:item_remove", POST, CHANGE, given="system"),
    Row("continuity:item_move", POST, CHANGE, given="system", data={"direction": "down"}),
    Row("continuity:contact_reviewed", POST, CHANGE, given="contact"),
    Row("continuity:step_create", GET, FORM, given="procedure"),
    Row("continuity:step_create", POST, CHANGE, given="procedure", data={"text": "Call the insurer"}),
    Row("continuity:step_edit", GET, FORM, given="step"),
    Row("continuity:step_edit", POST, CHANGE, given="step", data={"text": "Confirm the failure"}),
    Row("continuity:step_remove", GET, FORM, given="step"),
    Row("continuity:step_remove", POST, CHANGE, given="step"),
    Row("continuity:step_move", POST, CHANGE, given="step", data={"direction": "down"}),
]


@pytest.fixture
def rows(tenant):
    contact, _ = services.section_item_create(tenant=tenant, section_key=CONTACT, actor=Actor.system(),
                                              values={"name": "Pat Lee", "phone": "+1 415 555 0100"})
    procedure = Procedure.objects.get(tenant=tenant, kind=Procedure.Kind.DETECTION)
    return {"system": CriticalSystem.objects.get(tenant=tenant, name="IVR"), "contact": contact,
            "procedure": procedure, "step": procedure.steps.order_by("position").first()}


def _args(row, rows):
    name = row.name.removeprefix("continuity:")
    if row.given == "step":
        return path_args(name, pk=rows["procedure"].pk, step=rows["step"].pk)
    return path_args(name, pk=rows[row.given].pk) if row.given else path_args(name)


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_plan_url_for_every_persona(as_persona, rows, tenant, row, persona):
    client = as_persona(persona)
    versions = PlanVersion.objects.filter(tenant=tenant).count()
    ask(client, row, persona, args=_args(row, rows))
    if row.answers[persona] != 302 or persona != "tenant_admin" or row.method == GET:
        # Nobody but the plan's own editor changed it.
        assert PlanVersion.objects.filter(tenant=tenant).count() == versions


def test_a_representative_impersonating_the_tenant_reads_and_edits(client, rep, tenant):
    client.force_login(rep)
    client.post(reverse("support:start", args=[tenant.pk]))
    assert client.get(url_for("plan")).status_code == 200
    response = client.post(url_for("item_create", section="teams"), {"name": "Vendor desk"})
    assert response.status_code == 302
    version = PlanVersion.objects.get(tenant=tenant, number=2)
    assert version.actor == rep and version.summary == "Added plan team “Vendor desk”"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(url_for("plan"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_plan_page_shows_every_section_with_contents_and_fields(plan_admin, rows):
    page = plan_admin.get(url_for("plan")).text
    assert "<title>Continuity Plan · bcp</title>" in page
    for title in ("Critical systems and functions", "Roles and responsibilities", "Emergency contacts",
                  "Procedures", "Activation criteria"):
        assert title in page
    assert 'href="#section-systems"' in page and 'id="section-systems"' in page
    assert "Recovery-time goal" in page and "15 minutes" in page
    assert "Detection, notification and escalation" in page and "Damage assessment" in page
    assert 'href="tel:+14155550100"' in page
    assert f'href="{reverse("continuity:item_edit", args=["systems", rows["system"].pk])}"' in page
    assert ">Move up" in page and ">Move down" in page and ">Remove" in page
    assert 'aria-current="page">Plan</a>' in page  # the header's app selector


def test_contacts_are_in_escalation_order_with_links_and_a_review_flag(plan_admin, tenant):
    actor = Actor.system()
    services.section_item_create(tenant=tenant, section_key=CONTACT, actor=actor,
                                 values={"name": "First Call", "email": "first@example.com"})
    services.section_item_create(tenant=tenant, section_key=CONTACT, actor=actor,
                                 values={"name": "Old Number", "last_reviewed": timezone.localdate() - timedelta(91)})
    page = plan_admin.get(url_for("plan")).text
    assert page.index("First Call") < page.index("Old Number")
    assert 'href="mailto:first@example.com"' in page
    assert page.count('data-testid="review-due"') == 1
    assert "1 emergency contact has not been reviewed for 90 days" in page


def test_an_agent_reads_the_plan_without_editing_controls(agent_client, tenant):
    page = agent_client.get(url_for("plan")).text
    assert "Network services" in page and ">Edit" not in page and ">Move up" not in page
    assert 'class="sidebar"' not in page  # no Admin access, no Admin menu
    assert "An administrator with BCP Tenant Enablement access" in page  # the platform trigger, unlinked
    assert 'aria-current="page">Plan</a>' in page


def test_the_platform_trigger_links_to_bc_enablement_for_who_may_see_it(plan_admin, tenant):
    from accounts.services import role_set_permissions
    from bcp_project.permissions import VIEW_BCP_ENABLEMENT

    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[VIEW_BCP_ENABLEMENT],
                         scope=[VIEW_BCP_ENABLEMENT], actor=Actor.system())
    page = plan_admin.get(url_for("plan")).text
    assert f'href="{reverse("enablement:page")}">Open BC Enablement' in page
    assert 'class="sidebar"' in page and 'aria-current="page">Continuity Plan</a>' in page


@pytest.fixture
def planless_admin(planless_tenant):
    return UserFactory(username="fran", tenant=planless_tenant, role=role_of(planless_tenant, ADMINISTRATOR))


def test_an_editor_without_a_plan_is_offered_to_start_it(client, planless_admin, planless_tenant):
    client.force_login(planless_admin)
    page = client.get(url_for("plan")).text
    assert "No continuity plan yet" in page and ">Start the plan</button>" in page
    response = client.post(url_for("plan_start"), follow=True)
    assert "The plan is started" in response.text and "Network services" in response.text
    assert Plan.objects.get(tenant=planless_tenant).version == 1


def test_a_reader_without_a_plan_is_told_whom_to_ask(client, planless_tenant):
    client.force_login(UserFactory(username="gil", tenant=planless_tenant, role=role_of(planless_tenant, AGENT)))
    page = client.get(url_for("plan")).text
    assert "Ask an administrator of Fresh Start Ltd." in page and "Start the plan</button>" not in page
    assert client.post(url_for("plan_start")).status_code == 403


def test_starting_twice_says_so(plan_admin, tenant):
    response = plan_admin.post(url_for("plan_start"))
    assert response.status_code == 409 and "already has a continuity plan" in response.text


def test_bad_input_is_a_400_with_the_form_and_changes_nothing(plan_admin, tenant):
    response = plan_admin.post(url_for("item_create", section="systems"), {"name": ""})
    assert response.status_code == 400 and 'name="name"' in response.text and "This field is required" in response.text
    response = plan_admin.post(url_for("item_create", section="systems"), {"name": "ivr"})
    assert response.status_code == 400 and "already has a critical system named “ivr”" in response.text
    response = plan_admin.post(url_for("item_create", section="contacts"), {"name": "Pat", "email": "nope",
                                                                          "last_reviewed": "2026-01-01"})
    assert response.status_code == 400 and "Enter a valid email address" in response.text
    response = plan_admin.post(url_for("item_create", section="contacts"), {"name": "Pat", "phone": "555 0199 abc",
                                                                          "last_reviewed": "2026-01-01"})
    assert response.status_code == 400 and "Enter a phone number of digits" in response.text
    response = plan_admin.post(url_for("item_move", pk=CriticalSystem.objects.filter(tenant=tenant).first().pk),
                               {"direction": "sideways"})
    assert response.status_code == 400 and "Choose whether to move it up or down" in response.text
    assert PlanVersion.objects.filter(tenant=tenant).count() == 1


def test_editing_a_system_saves_versions_and_says_so(plan_admin, tenant):
    ivr = CriticalSystem.objects.get(tenant=tenant, name="IVR")
    form = plan_admin.get(url_for("item_edit", pk=ivr.pk)).text
    assert 'value="15"' in form and ">Cancel</a>" in form and 'href="/plan/#systems-' in form
    data = {"name": "IVR", "failover": ivr.failover, "responsible_team": ivr.responsible_team_id,
            "recovery_procedure": ivr.recovery_procedure, "restoration_procedure": ivr.restoration_procedure,
            "recovery_time_goal": "5"}
    response = plan_admin.post(url_for("item_edit", pk=ivr.pk), data, follow=True)
    assert "Critical system “IVR” is saved." in response.text and "5 minutes" in response.text
    summary = PlanVersion.objects.get(tenant=tenant, number=2).summary
    assert summary == "Changed critical system “IVR”: Recovery-time goal"
    response = plan_admin.post(url_for("item_edit", pk=ivr.pk), data, follow=True)
    assert "Nothing changed." in response.text and PlanVersion.objects.filter(tenant=tenant).count() == 2


def test_removing_asks_first_then_removes(plan_admin, tenant):
    team = PlanTeam.objects.get(tenant=tenant, name="HR")
    confirm = plan_admin.get(url_for("item_remove", section="teams", pk=team.pk)).text
    assert "Remove plan team “HR”?" in confirm and ">Cancel</a>" in confirm
    assert PlanTeam.objects.filter(pk=team.pk).exists()
    response = plan_admin.post(url_for("item_remove", section="teams", pk=team.pk), follow=True)
    assert "Plan team “HR” is removed." in response.text
    assert not PlanTeam.objects.filter(pk=team.pk).exists()


def test_a_procedures_steps_are_edited_on_its_page(plan_admin, tenant):
    damage = Procedure.objects.get(tenant=tenant, kind=Procedure.Kind.DAMAGE)
    page = plan_admin.get(url_for("item_edit", section="procedures", pk=damage.pk)).text
    assert page.count('data-testid="step"') == 4 and "Add the step" in page
    response = plan_admin.post(url_for("step_create", pk=damage.pk), {"text": ""})
    assert response.status_code == 400 and "This field is required" in response.text
    plan_admin.post(url_for("step_create", pk=damage.pk), {"text": "Tell the insurer"})
    last = damage.steps.order_by("-position").first()
    plan_admin.post(url_for("step_move", pk=damage.pk, step=last.pk), {"direction": "up"})
    assert list(damage.steps.order_by("position").values_list("text", flat=True))[3] == "Tell the insurer"


def test_a_new_procedure_goes_on_to_its_steps(plan_admin, tenant):
    response = plan_admin.post(url_for("item_create", section="procedures"),
                               {"name": "Evacuation", "kind": "other", "description": ""})
    procedure = Procedure.objects.get(tenant=tenant, name="Evacuation")
    assert response["Location"] == url_for("item_edit", section="procedures", pk=procedure.pk) + "#steps"


def _grow(tenant, start, stop):
    actor = Actor.system()
    procedure = Procedure.objects.get(tenant=tenant, kind=Procedure.Kind.DAMAGE)
    for n in range(start, stop):
        team, _ = services.section_item_create(tenant=tenant, section_key=PlanTeam.ENTITY_TYPE, actor=actor,
                                               values={"name": f"Team {n}"})
        services.section_item_create(tenant=tenant, section_key=CONTACT, actor=actor,
                                     values={"name": f"Contact {n}", "team": team, "phone": "+14155550100"})
        services.section_item_create(tenant=tenant, section_key=CriticalSystem.ENTITY_TYPE, actor=actor,
                                     values={"name": f"System {n}", "responsible_team": team})
        services.procedure_step_add(tenant=tenant, procedure=procedure, text=f"Step {n}", team=team, actor=actor)


def _queries(client) -> int:
    with CaptureQueriesEverywhere() as queries:
        assert client.get(url_for("plan")).status_code == 200
    return len(queries)


def test_the_plan_page_costs_the_same_queries_however_long_the_plan(plan_admin, tenant):
    _grow(tenant, 0, 2)
    small = _queries(plan_admin)
    _grow(tenant, 2, 15)
    assert _queries(plan_admin) == small


def test_removing_a_step_asks_with_the_steps_own_words(plan_admin, tenant):
    procedure = Procedure.objects.filter(tenant=tenant).first()
    step = procedure.steps.first()
    page = plan_admin.get(reverse("continuity:step_remove", args=[procedure.pk, step.pk])).text
    assert step.text.split("\n")[0][:40] in page and f"Step 1 of “{procedure.name}”" in page
    assert f"“Step 1 of “{procedure.name}”" not in page


def test_a_review_date_at_the_end_of_the_calendar_does_not_break_the_plan(plan_admin, agent_client, tenant):
    """A date near 9999-12-31 (stored before the form refused it, or by a sync) reads as reviewed, not due."""
    from datetime import date

    contact = services.section_item_create(tenant=tenant, section_key=CONTACT, actor=Actor.system(),
                                           values={"name": "Far Future"})[0]
    EmergencyContact.objects.filter(pk=contact.pk).update(last_reviewed=date(9999, 12, 31))
    for browser in (plan_admin, agent_client):
        response = browser.get(url_for("plan"))
        assert response.status_code == 200 and "Far Future" in response.text
        assert 'data-testid="review-due"' not in response.text
    assert plan_admin.get(url_for("item_edit", section="contacts", pk=contact.pk)).status_code == 200
    assert plan_admin.get(reverse("continuity:pdf")).status_code == 200


def test_a_review_date_after_today_is_refused_with_a_sentence(plan_admin, tenant):
    tomorrow = timezone.localdate() + timedelta(days=1)
    for value in ("9999-12-31", tomorrow.isoformat()):
        response = plan_admin.post(url_for("item_create", section="contacts"), {"name": "Pat", "last_reviewed": value})
        assert response.status_code == 400 and "A review cannot have happened after today" in response.text
    assert not EmergencyContact.objects.filter(tenant=tenant, name="Pat").exists()
    response = plan_admin.post(url_for("item_create", section="contacts"),
                               {"name": "Pat", "last_reviewed": timezone.localdate().isoformat()})
    assert response.status_code == 302 and EmergencyContact.objects.filter(tenant=tenant, name="Pat").exists()


def test_a_text_area_with_a_limit_says_it_beside_the_field(plan_admin, tenant):
    procedure = Procedure.objects.filter(tenant=tenant).first()
    page = plan_admin.get(url_for("item_edit", section="procedures", pk=procedure.pk)).text
    assert 'maxlength="2000"' in page and "At most 2000 characters." in page  # a step's text
    assert page.count("At most ") == 1  # the procedure's own text areas have no limit: a long text flows in the PDF
    assert "At most 5000 characters." in plan_admin.get(reverse("continuity:drill_create")).text
