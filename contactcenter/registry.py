"""The configuration types the Admin application manages, each declared once for the generic CRUD layer."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from . import forms, selectors, services
from .crud import Column, ConfigType, Registry
from .models import Disposition, HoursOfOperation, PointOfContact, Skill, Tag, Team, UnavailableCode


def _yes_no(value: bool) -> str:
    return gettext("Yes") if value else gettext("No")


def _profile_team(user: User) -> str:
    profile = getattr(user, "agent_profile", None)
    return profile.team.name if profile is not None and profile.team is not None else "—"


REGISTRY = Registry()

AGENTS = REGISTRY.register(ConfigType(
    key="user", slug="users", label=_("user"), label_plural=_("Users"), model=User,
    form=forms.AgentForm, list=selectors.agent_list, get=selectors.agent_get, decorate=selectors.agent_sides,
    create=services.agent_create, update=lambda user, **kw: services.agent_update(user=user, **kw),
    delete=lambda user, **kw: services.agent_delete(user=user, **kw), usage=selectors.agent_usage,
    filters=forms.agent_filters, form_template="contactcenter/partials/_agent_form.html", menu_order=10,
    search_help=_("Username, name or email"), title=lambda user: user.username,
    list_actions=((_("Import users"), "contactcenter:users_import"),),
    delete_refusal=lambda user, request: (
        gettext("This is your own account: you cannot delete it. Another administrator can.")
        if user.pk == request.user.pk else ""),
    empty_help=_("Users sign in with a username and password and take contacts for the skills they hold."),
    columns=[
        Column(_("Username"), lambda u: u.username),
        Column(_("Name"), lambda u: u.get_full_name() or "—"),
        Column(_("Role"), lambda u: u.role.name if u.role else "—"),
        Column(_("Team"), _profile_team),
        Column(_("Skills"), lambda u: u.skill_count, numeric=True),
        Column(_("Active"), lambda u: _yes_no(u.is_active)),
    ],
))

TEAMS = REGISTRY.register(ConfigType(
    key="team", slug="teams", label=_("team"), label_plural=_("Teams"), model=Team,
    form=forms.TeamForm, list=selectors.team_list, get=selectors.team_get,
    create=services.team_create, update=lambda team, **kw: services.team_update(team=team, **kw),
    delete=lambda team, **kw: services.team_delete(team=team, **kw), usage=selectors.team_usage, menu_order=20,
    empty_help=_("Teams group the agents a supervisor leads."),
    columns=[
        Column(_("Name"), lambda t: t.name),
        Column(_("Description"), lambda t: t.description or "—"),
        Column(_("Members"), lambda t: t.member_count, numeric=True),
    ],
))

SKILLS = REGISTRY.register(ConfigType(
    key="skill", slug="skills", label=_("skill"), label_plural=_("Skills"), model=Skill,
    form=forms.SkillForm, list=selectors.skill_list, get=selectors.skill_get,
    create=services.skill_create, update=lambda skill, **kw: services.skill_update(skill=skill, **kw),
    delete=lambda skill, **kw: services.skill_delete(skill=skill, **kw), usage=selectors.skill_usage,
    filters=forms.skill_filters, menu_order=30,
    empty_help=_("A skill is the queue a contact waits in; agents who hold it receive the contact."),
    columns=[
        Column(_("Name"), lambda s: s.name),
        Column(_("Channel"), lambda s: s.get_channel_display()),
        Column(_("Direction"), lambda s: s.get_direction_display()),
        Column(_("Users"), lambda s: s.agent_count, numeric=True),
        Column(_("Points of contact"), lambda s: s.poc_count, numeric=True),
    ],
))

HOURS = REGISTRY.register(ConfigType(
    key="hours", slug="hours", label=_("hours of operation"), label_plural=_("Hours of Operation"),
    model=HoursOfOperation, form=forms.HoursForm, list=selectors.hours_list, get=selectors.hours_get,
    create=services.hours_create, update=lambda hours, **kw: services.hours_update(hours=hours, **kw),
    delete=lambda hours, **kw: services.hours_delete(hours=hours, **kw), usage=selectors.hours_usage,
    form_template="contactcenter/partials/_hours_form.html", menu_order=40,
    search_help=_("Name or time zone"),
    empty_help=_("Hours of operation say when a point of contact is open, with holidays as exceptions."),
    columns=[
        Column(_("Name"), lambda h: h.name),
        Column(_("Time zone"), lambda h: h.timezone),
        Column(_("Points of contact"), lambda h: h.poc_count, numeric=True),
    ],
))

POINTS_OF_CONTACT = REGISTRY.register(ConfigType(
    key="poc", slug="points-of-contact", label=_("point of contact"), label_plural=_("Points of Contact"),
    model=PointOfContact, form=forms.PointOfContactForm, list=selectors.point_of_contact_list,
    get=selectors.point_of_contact_get, create=services.point_of_contact_create,
    update=lambda poc, **kw: services.point_of_contact_update(point_of_contact=poc, **kw),
    delete=lambda poc, **kw: services.point_of_contact_delete(point_of_contact=poc, **kw),
    filters=forms.point_of_contact_filters, menu_order=50, search_help=_("Name or address"),
    empty_help=_("A point of contact is a phone number, email address or chat entry point that routes to a "
                     "skill."),
    columns=[
        Column(_("Name"), lambda p: p.name),
        Column(_("Channel"), lambda p: p.get_channel_display()),
        Column(_("Address"), lambda p: p.address),
        Column(_("Skill"), lambda p: p.skill.name),
        Column(_("Hours of operation"), lambda p: p.hours.name),
    ],
))

DISPOSITIONS = REGISTRY.register(ConfigType(
    key="disposition", slug="dispositions", label=_("disposition"), label_plural=_("Dispositions"),
    model=Disposition, form=forms.DispositionForm, list=selectors.disposition_list, get=selectors.disposition_get,
    create=services.disposition_create,
    update=lambda d, **kw: services.disposition_update(disposition=d, **kw),
    delete=lambda d, **kw: services.disposition_delete(disposition=d, **kw), usage=selectors.disposition_usage,
    filters=forms.disposition_filters, menu_order=60,
    empty_help=_("Dispositions are the outcomes agents record when a contact ends."),
    columns=[
        Column(_("Name"), lambda d: d.name),
        Column(_("Classification"), lambda d: d.get_classification_display()),
        Column(_("Skills"), lambda d: d.skill_count, numeric=True),
    ],
))

UNAVAILABLE_CODES = REGISTRY.register(ConfigType(
    key="unavailable", slug="unavailable-codes", label=_("unavailable code"),
    label_plural=_("Unavailable Codes"), model=UnavailableCode, form=forms.UnavailableCodeForm,
    list=selectors.unavailable_code_list, get=selectors.unavailable_code_get,
    create=services.unavailable_code_create,
    update=lambda c, **kw: services.unavailable_code_update(unavailable_code=c, **kw),
    delete=lambda c, **kw: services.unavailable_code_delete(unavailable_code=c, **kw),
    filters=forms.unavailable_code_filters, menu_order=70,
    empty_help=_("Unavailable codes are the states agents choose when they cannot take contacts."),
    columns=[
        Column(_("Name"), lambda c: c.name),
        Column(_("After-contact work"), lambda c: _yes_no(c.after_contact_work)),
    ],
))

TAGS = REGISTRY.register(ConfigType(
    key="tag", slug="tags", label=_("tag"), label_plural=_("Tags"), model=Tag, form=forms.TagForm,
    list=selectors.tag_list, get=selectors.tag_get, create=services.tag_create,
    update=lambda tag, **kw: services.tag_update(tag=tag, **kw),
    delete=lambda tag, **kw: services.tag_delete(tag=tag, **kw), menu_order=80,
    search_help=_("Name or description"),
    empty_help=_("Tags are labels agents put on contacts for reporting."),
    columns=[
        Column(_("Name"), lambda t: t.name),
        Column(_("Description"), lambda t: t.description or "—"),
    ],
))
