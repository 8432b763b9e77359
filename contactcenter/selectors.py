"""Every read of the contact-center configuration, scoped to one tenant. Another tenant's id is a 404.

List selectors return querysets whose per-row figures are annotated, so that a list page costs the
same number of queries whatever the number of rows.
"""

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User

from .models import (
    AgentProfile,
    Disposition,
    HoursOfOperation,
    PointOfContact,
    Skill,
    SkillAssignment,
    Tag,
    Team,
    UnavailableCode,
)


def _count(model, fk: str):
    """A correlated COUNT(*) of `model` rows whose `fk` is the outer row (no join fan-out)."""
    rows = model.objects.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def _search(queryset: QuerySet, search: str, *fields: str) -> QuerySet:
    search = (search or "").strip()
    if not search:
        return queryset
    condition = Q()
    for name in fields or ("name",):
        condition |= Q(**{f"{name}__icontains": search})
    return queryset.filter(condition)


def team_list(*, tenant, search: str = "") -> QuerySet[Team]:
    teams = Team.objects.filter(tenant=tenant).annotate(member_count=_count(AgentProfile, "team"))
    return _search(teams, search, "name", "description")


def skill_list(*, tenant, search: str = "", channel: str = "", direction: str = "") -> QuerySet[Skill]:
    skills = Skill.objects.filter(tenant=tenant).annotate(
        agent_count=_count(SkillAssignment, "skill"), poc_count=_count(PointOfContact, "skill"),
    )
    if channel:
        skills = skills.filter(channel=channel)
    if direction:
        skills = skills.filter(direction=direction)
    # By name only: the list shows no description, so a match found there would look like a wrong answer.
    return _search(skills, search, "name")


def hours_list(*, tenant, search: str = "") -> QuerySet[HoursOfOperation]:
    hours = HoursOfOperation.objects.filter(tenant=tenant).annotate(poc_count=_count(PointOfContact, "hours"))
    return _search(hours, search, "name", "timezone")


def point_of_contact_list(*, tenant, search: str = "", channel: str = "", skill: str = "") -> QuerySet[PointOfContact]:
    pocs = PointOfContact.objects.filter(tenant=tenant).select_related("skill", "hours")
    if channel:
        pocs = pocs.filter(channel=channel)
    if skill:
        pocs = pocs.filter(skill_id=skill)
    return _search(pocs, search, "name", "address")


def disposition_list(*, tenant, search: str = "", classification: str = "") -> QuerySet[Disposition]:
    through = Disposition.skills.through
    dispositions = Disposition.objects.filter(tenant=tenant).annotate(skill_count=_count(through, "disposition"))
    if classification:
        dispositions = dispositions.filter(classification=classification)
    return _search(dispositions, search)


def unavailable_code_list(*, tenant, search: str = "", after_contact_work: str = "") -> QuerySet[UnavailableCode]:
    codes = UnavailableCode.objects.filter(tenant=tenant)
    if after_contact_work in ("yes", "no"):
        codes = codes.filter(after_contact_work=after_contact_work == "yes")
    return _search(codes, search)


def tag_list(*, tenant, search: str = "") -> QuerySet[Tag]:
    return _search(Tag.objects.filter(tenant=tenant), search, "name", "description")


def agent_list(*, tenant, search: str = "", role: str = "", team: str = "") -> QuerySet[User]:
    """The tenant's users (control plane); their agent side lives in the tenant's region and is attached to the
    rows shown by `agent_sides` (a user made elsewhere may have none yet)."""
    users = User.objects.filter(tenant=tenant).select_related("role").order_by("username", "id")
    if role:
        users = users.filter(role_id=role)
    if team:
        members = AgentProfile.objects.filter(tenant=tenant, team_id=team).values_list("user_id", flat=True)
        users = users.filter(pk__in=list(members))
    return _search(users, search, "username", "first_name", "last_name", "email")


def agent_sides(users, *, tenant) -> list[User]:
    """Gives each user their agent side (team, skill count) from the tenant's region, in one query for all."""
    users = list(users)
    profiles = {
        profile.user_id: profile
        for profile in AgentProfile.objects.filter(tenant=tenant, user_id__in=[user.pk for user in users])
        .select_related("team").annotate(skill_count=Count("assignments"))
    }
    for user in users:
        profile = profiles.get(user.pk)
        User.agent_profile.related.set_cached_value(user, profile)
        user.skill_count = profile.skill_count if profile is not None else 0
    return users


def _get(queryset: QuerySet, pk: int):
    return get_object_or_404(queryset, pk=pk)


def team_get(*, tenant, pk: int) -> Team:
    return _get(Team.objects.filter(tenant=tenant), pk)


def skill_get(*, tenant, pk: int) -> Skill:
    return _get(Skill.objects.filter(tenant=tenant), pk)


def hours_get(*, tenant, pk: int) -> HoursOfOperation:
    return _get(HoursOfOperation.objects.filter(tenant=tenant).prefetch_related("days", "exceptions"), pk)


def point_of_contact_get(*, tenant, pk: int) -> PointOfContact:
    return _get(PointOfContact.objects.filter(tenant=tenant).select_related("skill", "hours"), pk)


def disposition_get(*, tenant, pk: int) -> Disposition:
    return _get(Disposition.objects.filter(tenant=tenant).prefetch_related("skills"), pk)


def unavailable_code_get(*, tenant, pk: int) -> UnavailableCode:
    return _get(UnavailableCode.objects.filter(tenant=tenant), pk)


def tag_get(*, tenant, pk: int) -> Tag:
    return _get(Tag.objects.filter(tenant=tenant), pk)


def agent_get(*, tenant, pk: int) -> User:
    return agent_sides([_get(User.objects.filter(tenant=tenant).select_related("role"), pk)], tenant=tenant)[0]


def skill_choices(*, tenant) -> QuerySet[Skill]:
    return Skill.objects.filter(tenant=tenant).order_by("name")


def hours_choices(*, tenant) -> QuerySet[HoursOfOperation]:
    return HoursOfOperation.objects.filter(tenant=tenant).order_by("name")


def team_choices(*, tenant) -> QuerySet[Team]:
    return Team.objects.filter(tenant=tenant).order_by("name")


def role_choices(*, tenant) -> QuerySet[Role]:
    return Role.objects.filter(tenant=tenant).order_by("name")


# --- what uses an object, for the delete pages ----------------------------------------------------

@dataclass
class Usage:
    """One kind of thing that uses the object: how many, a few names, and what deleting does to them."""

    label: str
    count: int
    examples: list[str] = field(default_factory=list)
    effect: str = ""
    blocks: bool = False  # the database PROTECTs: change these first


EXAMPLES = 5


def _usage(queryset: QuerySet, name_field: str, *, label, effect, blocks=False) -> list[Usage]:
    count = queryset.count()
    if not count:
        return []
    examples = [str(n) for n in queryset.order_by(name_field).values_list(name_field, flat=True)[:EXAMPLES]]
    return [Usage(label=str(label), count=count, examples=examples, effect=str(effect), blocks=blocks)]


def _user_usage(user_ids: QuerySet, *, label, effect) -> list[Usage]:
    """Like _usage for rows that name users: the users' names are in the control plane, the rows in a region."""
    ids = list(user_ids)
    if not ids:
        return []
    examples = list(User.objects.filter(pk__in=ids).order_by("username").values_list("username", flat=True)[:EXAMPLES])
    return [Usage(label=str(label), count=len(ids), examples=examples, effect=str(effect))]


def team_usage(team: Team) -> list[Usage]:
    return _user_usage(team.members.values_list("user_id", flat=True), label=_("Members"),
                       effect=_("They stay, without a team."))


def skill_usage(skill: Skill) -> list[Usage]:
    return [
        *_usage(skill.points_of_contact.all(), "name", label=_("Points of contact that route to this skill"),
                effect=_("Route them to another skill first."), blocks=True),
        *_user_usage(skill.assignments.values_list("agent__user_id", flat=True), label=_("Users who hold this skill"),
                     effect=_("They lose this skill.")),
        *_usage(skill.dispositions.all(), "name", label=_("Dispositions offered on this skill"),
                effect=_("They are no longer offered on this skill.")),
    ]


def hours_usage(hours: HoursOfOperation) -> list[Usage]:
    return _usage(hours.points_of_contact.all(), "name", label=_("Points of contact that use these hours"),
                  effect=_("Give them other hours of operation first."), blocks=True)


def disposition_usage(disposition: Disposition) -> list[Usage]:
    return _usage(disposition.skills.all(), "name", label=_("Skills that offer this disposition"),
                  effect=_("They no longer offer it."))


def agent_usage(user: User) -> list[Usage]:
    return _usage(SkillAssignment.objects.filter(tenant_id=user.tenant_id, agent__user_id=user.pk), "skill__name",
                  label=_("Skills held"),
                  effect=_("The assignments are removed with the user."))


def no_usage(obj) -> list[Usage]:
    return []
