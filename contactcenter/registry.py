"""The configuration types the Admin application manages, each declared once for the generic CRUD layer."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User

from . import forms, selectors, services
from .crud import Column, ConfigType, Registry
from .models import Disposition, HoursOfOperation, PointOfContact, Skill, Tag, Team, UnavailableCode


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _profile_team(user: User) -> str:
    profile = getattr(user, "agent_profile", None)
    return profile.team.name if profile is not None and profile.team is not None else "—"


REGISTRY = Registry()

AGENTS = REGISTRY.register(ConfigType(
    key="user", slug="users", label=_lazy("user"), label_plural=_lazy("Users"), model=User,
    form=forms.AgentForm, list=selectors.agent_list, get=selectors.agent_get,
    create=services.agent_create, update=lambda user, **kw: services.agent_update(user=user, **kw),
    delete=lambda user, **kw: services.agent_delete(user=user, **kw), usage=selectors.agent_usage,
    filters=forms.agent_filters, form_template="contactcenter/partials/_agent_form.html", menu_order=10,
    search_help=_lazy("Username, name or email"), title=lambda user: user.username,
    list_actions=((_lazy("Import users"), "contactcenter:users_import"),),
    empty_help=_lazy("Users sign in with a username and password and take contacts for the skills they hold."),
    columns=[
        Column(_lazy("Username"), lambda u: u.username),
        Column(_lazy("Name"), lambda u: u.get_full_name() or "—"),
        Column(_lazy("Role"), lambda u: u.role.name if u.role else "—"),
        Column(_lazy("Team"), _profile_team),
        Column(_lazy("Skills"), lambda u: u.skill_count, numeric=True),
        Column(_lazy("Active"), lambda u: _yes_no(u.is_active)),
    ],
))

TEAMS = REGISTRY.register(ConfigType(
    key="team", slug="teams", label=_lazy("team"), label_plural=_lazy("Teams"), model=Team,
    form=forms.TeamForm, list=selectors.team_list, get=selectors.team_get,
    create=services.team_create, update=lambda team, **kw: services.team_update(team=team, **kw),
    delete=lambda team, **kw: services.team_delete(team=team, **kw), usage=selectors.team_usage, menu_order=20,
    empty_help=_lazy("Teams group the agents a supervisor leads."),
    columns=[
        Column(_lazy("Name"), lambda t: t.name),
        Column(_lazy("Description"), lambda t: t.description or "—"),
        Column(_lazy("Members"), lambda t: t.member_count, numeric=True),
    ],
))

SKILLS = REGISTRY.register(ConfigType(
    key="skill", slug="skills", label=_lazy("skill"), label_plural=_lazy("Skills"), model=Skill,
    form=forms.SkillForm, list=selectors.skill_list, get=selectors.skill_get,
    create=services.skill_create, update=lambda skill, **kw: services.skill_update(skill=skill, **kw),
    delete=lambda skill, **kw: services.skill_delete(skill=skill, **kw), usage=selectors.skill_usage,
    filters=forms.skill_filters, menu_order=30,
    empty_help=_lazy("A skill is the queue a contact waits in; agents who hold it receive the contact."),
    columns=[
        Column(_lazy("Name"), lambda s: s.name),
        Column(_lazy("Channel"), lambda s: s.get_channel_display()),
        Column(_lazy("Direction"), lambda s: s.get_direction_display()),
        Column(_lazy("Users"), lambda s: s.agent_count, numeric=True),
        Column(_lazy("Points of contact"), lambda s: s.poc_count, numeric=True),
    ],
))

HOURS = REGISTRY.register(ConfigType(
    key="hours", slug="hours", label=_lazy("hours of operation"), label_plural=_lazy("Hours of Operation"),
    model=HoursOfOperation, form=forms.HoursForm, list=selectors.hours_list, get=selectors.hours_get,
    create=services.hours_create, update=lambda hours, **kw: services.hours_update(hours=hours, **kw),
    delete=lambda hours, **kw: services.hours_delete(hours=hours, **kw), usage=selectors.hours_usage,
    form_template="contactcenter/partials/_hours_form.html", menu_order=40,
    search_help=_lazy("Name or time zone"),
    empty_help=_lazy("Hours of operation say when a point of contact is open, with holidays as exceptions."),
    columns=[
        Column(_lazy("Name"), lambda h: h.name),
        Column(_lazy("Time zone"), lambda h: h.timezone),
        Column(_lazy("Points of contact"), lambda h: h.poc_count, numeric=True),
    ],
))

POINTS_OF_CONTACT = REGISTRY.register(ConfigType(
    key="poc", slug="points-of-contact", label=_lazy("point of contact"), label_plural=_lazy("Points of Contact"),
    model=PointOfContact, form=forms.PointOfContactForm, list=selectors.point_of_contact_list,
    get=selectors.point_of_contact_get, create=services.point_of_contact_create,
    update=lambda poc, **kw: services.point_of_contact_update(point_of_contact=poc, **kw),
    delete=lambda poc, **kw: services.point_of_contact_delete(point_of_contact=poc, **kw),
    filters=forms.point_of_contact_filters, menu_order=50, search_help=_lazy("Name or address"),
    empty_help=_lazy("A point of contact is a phone number, email address or chat entry point that routes to a "
                     "skill."),
    columns=[
        Column(_lazy("Name"), lambda p: p.name),
        Column(_lazy("Channel"), lambda p: p.get_channel_display()),
        Column(_lazy("Address"), lambda p: p.address),
        Column(_lazy("Skill"), lambda p: p.skill.name),
        Column(_lazy("Hours of operation"), lambda p: p.hours.name),
    ],
))

DISPOSITIONS = REGISTRY.register(ConfigType(
    key="disposition", slug="dispositions", label=_lazy("disposition"), label_plural=_lazy("Dispositions"),
    model=Disposition, form=forms.DispositionForm, list=selectors.disposition_list, get=selectors.disposition_get,
    create=services.disposition_create,
    update=lambda d, **kw: services.disposition_update(disposition=d, **kw),
    delete=lambda d, **kw: services.disposition_delete(disposition=d, **kw), usage=selectors.disposition_usage,
    filters=forms.disposition_filters, menu_order=60,
    empty_help=_lazy("Dispositions are the outcomes agents record when a contact ends."),
    columns=[
        Column(_lazy("Name"), lambda d: d.name),
        Column(_lazy("Classification"), lambda d: d.get_classification_display()),
        Column(_lazy("Skills"), lambda d: d.skill_count, numeric=True),
    ],
))

UNAVAILABLE_CODES = REGISTRY.register(ConfigType(
    key="unavailable", slug="unavailable-codes", label=_lazy("unavailable code"),
    label_plural=_lazy("Unavailable Codes"), model=UnavailableCode, form=forms.UnavailableCodeForm,
    list=selectors.unavailable_code_list, get=selectors.unavailable_code_get,
    create=services.unavailable_code_create,
    update=lambda c, **kw: services.unavailable_code_update(unavailable_code=c, **kw),
    delete=lambda c, **kw: services.unavailable_code_delete(unavailable_code=c, **kw),
    filters=forms.unavailable_code_filters, menu_order=70,
    empty_help=_lazy("Unavailable codes are the states agents choose when they cannot take contacts."),
    columns=[
        Column(_lazy("Name"), lambda c: c.name),
        Column(_lazy("After-contact work"), lambda c: _yes_no(c.after_contact_work)),
    ],
))

TAGS = REGISTRY.register(ConfigType(
    key="tag", slug="tags", label=_lazy("tag"), label_plural=_lazy("Tags"), model=Tag, form=forms.TagForm,
    list=selectors.tag_list, get=selectors.tag_get, create=services.tag_create,
    update=lambda tag, **kw: services.tag_update(tag=tag, **kw),
    delete=lambda tag, **kw: services.tag_delete(tag=tag, **kw), menu_order=80,
    search_help=_lazy("Name or description"),
    empty_help=_lazy("Tags are labels agents put on contacts for reporting."),
    columns=[
        Column(_lazy("Name"), lambda t: t.name),
        Column(_lazy("Description"), lambda t: t.description or "—"),
    ],
))
