"""Every write to the contact-center configuration. Views, imports, seeds and the sync call these.

Each service is keyword-only and atomic, records an audit event, and raises `ApplicationError` with
a sentence the administrator can act on (and the form field it belongs to). Delete services write a
`Deletion` so that a sync can delete the copy on the backup tenant.
"""

from collections.abc import Iterable, Mapping
from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import ProtectedError
from django.utils.timezone import now
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.services import user_create, username_check_free
from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions.transactions import tenant_atomic

from .models import (
    PROFICIENCY_MAX,
    PROFICIENCY_MIN,
    AgentProfile,
    Channel,
    Classification,
    Deletion,
    Direction,
    Disposition,
    HoursDay,
    HoursException,
    HoursOfOperation,
    PointOfContact,
    Skill,
    SkillAssignment,
    Tag,
    Team,
    UnavailableCode,
    Weekday,
    validate_address,
    validate_timezone,
)

# A weekday's hours: (opens_at, closes_at), or None when closed all day.
DaySchedule = tuple[time, time] | None
DEFAULT_WEEK: dict[int, DaySchedule] = {
    **{day: (time(9), time(17)) for day in range(5)},
    Weekday.SATURDAY: None,
    Weekday.SUNDAY: None,
}


# --- shared helpers -------------------------------------------------------------------------------

def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Enter a name."), field="name")
    return name


def _check_name_free(model: type[models.Model], *, tenant, name: str, instance=None) -> str:
    name = _clean_name(name)
    taken = model.objects.filter(tenant=tenant, name__iexact=name)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ApplicationError(
            _("There is already a %(type)s named “%(name)s”. Choose another name.")
            % {"type": model._meta.verbose_name, "name": name},
            field="name",
        )
    return name


def _check_same_tenant(tenant, obj, field: str) -> None:
    if obj is not None and obj.tenant_id != tenant.pk:
        raise ApplicationError(_("Choose one of this tenant's own entries."), field=field)


def _check_choice(value: str, choices, field: str) -> None:
    if value not in choices.values:
        raise ApplicationError(_("Choose one of the offered options."), field=field)


def _apply(obj: models.Model, values: Mapping) -> dict:
    """Set attributes; return {field: [old, new]} for those that changed (for the audit log)."""
    changes = {}
    for field, value in values.items():
        old = getattr(obj, field)
        if old != value:
            changes[field] = [_jsonable(old), _jsonable(value)]
            setattr(obj, field, value)
    return changes


def _jsonable(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _save(obj: models.Model, *, action: str, actor: Actor, changes: dict | None = None, created: bool = False):
    obj.save()
    if created or changes:
        audit_record(action=action, by=actor, tenant=obj.tenant, obj=obj, changes=changes or {})
    return obj


def _delete(obj: models.Model, *, entity_type: str, natural_key: str, action: str, actor: Actor) -> None:
    tenant = obj.tenant if hasattr(obj, "tenant") else None
    audit_record(action=action, by=actor, tenant=tenant, obj=obj)
    pk = obj.pk
    try:
        obj.delete()
    except ProtectedError as exc:
        # The delete page checks first; this is the race where something started using it meanwhile.
        raise ApplicationError(
            _("“%(name)s” is still in use by %(count)s other entries; change those first.")
            % {"name": natural_key, "count": len(exc.protected_objects)}
        ) from None
    Deletion.objects.create(tenant=tenant, entity_type=entity_type, object_id=pk, natural_key=natural_key[:255])


def _touch(queryset) -> None:
    """Rows that change because a related row goes (SET_NULL, a lost skill) get a new updated_at for the sync."""
    queryset.model.objects.using(queryset.db).filter(pk__in=queryset.values("pk")).update(updated_at=now())


def _named_create(model: type[models.Model], *, tenant, name: str, actor: Actor, **values):
    name = _check_name_free(model, tenant=tenant, name=name)
    return _save(model(tenant=tenant, name=name, **values), action=f"{model.ENTITY_TYPE}.create", actor=actor,
                 created=True)


def _named_update(obj: models.Model, *, name: str, actor: Actor, **values):
    name = _check_name_free(type(obj), tenant=obj.tenant, name=name, instance=obj)
    changes = _apply(obj, {"name": name, **values})
    return _save(obj, action=f"{obj.ENTITY_TYPE}.update", actor=actor, changes=changes)


def _named_delete(obj: models.Model, *, actor: Actor) -> None:
    _delete(obj, entity_type=obj.ENTITY_TYPE, natural_key=obj.name, action=f"{obj.ENTITY_TYPE}.delete",
            actor=actor)


# --- teams ----------------------------------------------------------------------------------------

@tenant_atomic
def team_create(*, tenant, name: str, description: str = "", actor: Actor) -> Team:
    return _named_create(Team, tenant=tenant, name=name, actor=actor, description=description.strip())


@tenant_atomic
def team_update(*, team: Team, name: str, description: str = "", actor: Actor) -> Team:
    return _named_update(team, name=name, actor=actor, description=description.strip())


@tenant_atomic
def team_delete(*, team: Team, actor: Actor) -> None:
    """Members stay, without a team."""
    _touch(team.members.all())
    _named_delete(team, actor=actor)


# --- skills ---------------------------------------------------------------------------------------

def _skill_values(*, channel: str, direction: str) -> None:
    _check_choice(channel, Channel, "channel")
    _check_choice(direction, Direction, "direction")


@tenant_atomic
def skill_create(*, tenant, name: str, channel: str = Channel.PHONE, direction: str = Direction.INBOUND,
                 description: str = "", actor: Actor) -> Skill:
    _skill_values(channel=channel, direction=direction)
    return _named_create(Skill, tenant=tenant, name=name, actor=actor, channel=channel, direction=direction,
                         description=description.strip())


@tenant_atomic
def skill_update(*, skill: Skill, name: str, channel: str, direction: str, description: str = "",
                 actor: Actor) -> Skill:
    _skill_values(channel=channel, direction=direction)
    if channel != skill.channel:
        routed = list(skill.points_of_contact.exclude(channel=channel).values_list("name", flat=True)[:3])
        if routed:
            raise ApplicationError(
                _("Points of contact on another channel route to this skill (%(names)s). "
                  "Route them to another skill before you change its channel.") % {"names": ", ".join(routed)},
                field="channel",
            )
    return _named_update(skill, name=name, actor=actor, channel=channel, direction=direction,
                         description=description.strip())


@tenant_atomic
def skill_delete(*, skill: Skill, actor: Actor) -> None:
    """Blocked while a point of contact routes to it; agents who hold it lose it."""
    names = list(skill.points_of_contact.values_list("name", flat=True)[:3])
    if names:
        raise ApplicationError(
            _("Points of contact still route to “%(skill)s” (%(names)s). Route them to another skill first.")
            % {"skill": skill.name, "names": ", ".join(names)}
        )
    _touch(AgentProfile.objects.filter(tenant_id=skill.tenant_id, assignments__skill=skill))
    _touch(skill.dispositions.all())
    _named_delete(skill, actor=actor)


# --- hours of operation ---------------------------------------------------------------------------

def _check_span(opens_at: time | None, closes_at: time | None, field: str) -> None:
    if opens_at is None or closes_at is None:
        raise ApplicationError(_("Enter both the opening and the closing time, or mark the day closed."),
                               field=field)
    if opens_at >= closes_at:
        raise ApplicationError(_("The closing time must be after the opening time."), field=field)


def _check_timezone(value: str) -> str:
    try:
        validate_timezone(value)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field="timezone") from None
    return value


def _write_week(hours: HoursOfOperation, week: Mapping[int, DaySchedule]) -> None:
    rows = []
    for day in Weekday.values:
        if day not in week:
            raise ApplicationError(_("Give the hours of every day of the week."), field="days")
        span = week[day]
        if span is not None:
            _check_span(*span, field="days")
        rows.append(HoursDay(tenant=hours.tenant, hours=hours, day=day, closed=span is None,
                             opens_at=span[0] if span else None, closes_at=span[1] if span else None))
    hours.days.all().delete()
    HoursDay.objects.bulk_create(rows)


def _write_exceptions(hours: HoursOfOperation, exceptions: Iterable[Mapping]) -> None:
    """exceptions: dicts with date, name, and either closed=True or opens_at/closes_at."""
    rows, seen = [], set()
    for item in exceptions:
        if item["date"] in seen:
            raise ApplicationError(_("Each date can have only one exception."), field="exceptions")
        seen.add(item["date"])
        name = (item.get("name") or "").strip()
        if not name:
            raise ApplicationError(_("Give each exception a name, e.g. New Year's Day."), field="exceptions")
        closed = bool(item.get("closed"))
        if not closed:
            _check_span(item.get("opens_at"), item.get("closes_at"), field="exceptions")
        rows.append(HoursException(tenant=hours.tenant, hours=hours, date=item["date"], name=name, closed=closed,
                                   opens_at=None if closed else item["opens_at"],
                                   closes_at=None if closed else item["closes_at"]))
    hours.exceptions.all().delete()
    HoursException.objects.bulk_create(rows)


def _schedule_snapshot(hours: HoursOfOperation) -> dict:
    return {
        "days": [[d.day, d.closed, _jsonable(d.opens_at), _jsonable(d.closes_at)] for d in hours.days.all()],
        "exceptions": [[_jsonable(e.date), e.name, e.closed, _jsonable(e.opens_at), _jsonable(e.closes_at)]
                       for e in hours.exceptions.all()],
    }


@tenant_atomic
def hours_create(*, tenant, name: str, timezone: str = "UTC", description: str = "",
                 week: Mapping[int, DaySchedule] | None = None, exceptions: Iterable[Mapping] = (),
                 actor: Actor) -> HoursOfOperation:
    """`week` maps each weekday (0 = Monday) to (opens_at, closes_at) or None; default Mon–Fri 9–17."""
    name = _check_name_free(HoursOfOperation, tenant=tenant, name=name)
    hours = HoursOfOperation(tenant=tenant, name=name, timezone=_check_timezone(timezone),
                             description=description.strip())
    hours.save()
    _write_week(hours, DEFAULT_WEEK if week is None else week)
    _write_exceptions(hours, exceptions)
    audit_record(action="hours.create", by=actor, tenant=tenant, obj=hours, changes=_schedule_snapshot(hours))
    return hours


@tenant_atomic
def hours_update(*, hours: HoursOfOperation, name: str, timezone: str, description: str = "",
                 week: Mapping[int, DaySchedule] | None = None, exceptions: Iterable[Mapping] | None = None,
                 actor: Actor) -> HoursOfOperation:
    """`week` / `exceptions` left as None keep what is there."""
    name = _check_name_free(HoursOfOperation, tenant=hours.tenant, name=name, instance=hours)
    before = _schedule_snapshot(hours)
    changes = _apply(hours, {"name": name, "timezone": _check_timezone(timezone), "description": description.strip()})
    hours.save()
    if week is not None:
        _write_week(hours, week)
    if exceptions is not None:
        _write_exceptions(hours, exceptions)
    after = _schedule_snapshot(hours)
    if after != before:
        changes["schedule"] = [before, after]
        # The schedule lives in child rows; touch the parent so a sync sees the change.
        hours.save(update_fields=["updated_at"])
    if changes:
        audit_record(action="hours.update", by=actor, tenant=hours.tenant, obj=hours, changes=changes)
    return hours


@tenant_atomic
def hours_delete(*, hours: HoursOfOperation, actor: Actor) -> None:
    """Blocked while a point of contact uses these hours."""
    names = list(hours.points_of_contact.values_list("name", flat=True)[:3])
    if names:
        raise ApplicationError(
            _("Points of contact still use “%(hours)s” (%(names)s). Give them other hours of operation first.")
            % {"hours": hours.name, "names": ", ".join(names)}
        )
    _named_delete(hours, actor=actor)


# --- points of contact ----------------------------------------------------------------------------

def _check_routing(*, tenant, channel: str, address: str, skill: Skill, hours: HoursOfOperation,
                   instance: PointOfContact | None = None) -> str:
    _check_choice(channel, Channel, "channel")
    address = (address or "").strip()
    if channel == Channel.EMAIL:
        address = address.lower()
    try:
        validate_address(channel, address)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field="address") from None
    taken = PointOfContact.objects.filter(tenant=tenant, channel=channel, address__iexact=address)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ApplicationError(_("Another point of contact already answers on this address."), field="address")
    _check_same_tenant(tenant, skill, "skill")
    _check_same_tenant(tenant, hours, "hours")
    if skill.channel != channel:
        raise ApplicationError(
            _("The skill “%(skill)s” handles %(skill_channel)s contacts; choose a %(channel)s skill.")
            % {"skill": skill.name, "skill_channel": skill.get_channel_display(),
               "channel": Channel(channel).label},
            field="skill",
        )
    return address


@tenant_atomic
def point_of_contact_create(*, tenant, name: str, channel: str, address: str, skill: Skill,
                            hours: HoursOfOperation, actor: Actor) -> PointOfContact:
    address = _check_routing(tenant=tenant, channel=channel, address=address, skill=skill, hours=hours)
    return _named_create(PointOfContact, tenant=tenant, name=name, actor=actor, channel=channel, address=address,
                         skill=skill, hours=hours)


@tenant_atomic
def point_of_contact_update(*, point_of_contact: PointOfContact, name: str, channel: str, address: str,
                            skill: Skill, hours: HoursOfOperation, actor: Actor) -> PointOfContact:
    poc = point_of_contact
    address = _check_routing(tenant=poc.tenant, channel=channel, address=address, skill=skill, hours=hours,
                             instance=poc)
    return _named_update(poc, name=name, actor=actor, channel=channel, address=address, skill=skill, hours=hours)


@tenant_atomic
def point_of_contact_delete(*, point_of_contact: PointOfContact, actor: Actor) -> None:
    _named_delete(point_of_contact, actor=actor)


# --- dispositions ---------------------------------------------------------------------------------

def _set_skills(disposition: Disposition, skills: Iterable[Skill]) -> dict:
    skills = list(skills)
    for skill in skills:
        _check_same_tenant(disposition.tenant, skill, "skills")
    before = sorted(disposition.skills.values_list("name", flat=True))
    disposition.skills.set(skills)
    after = sorted(s.name for s in skills)
    return {"skills": [before, after]} if before != after else {}


@tenant_atomic
def disposition_create(*, tenant, name: str, classification: str = Classification.RESOLVED,
                       skills: Iterable[Skill] = (), actor: Actor) -> Disposition:
    name = _check_name_free(Disposition, tenant=tenant, name=name)
    _check_choice(classification, Classification, "classification")
    disposition = Disposition.objects.create(tenant=tenant, name=name, classification=classification)
    changes = _set_skills(disposition, skills)
    audit_record(action="disposition.create", by=actor, tenant=tenant, obj=disposition, changes=changes)
    return disposition


@tenant_atomic
def disposition_update(*, disposition: Disposition, name: str, classification: str,
                       skills: Iterable[Skill] | None = None, actor: Actor) -> Disposition:
    name = _check_name_free(Disposition, tenant=disposition.tenant, name=name, instance=disposition)
    _check_choice(classification, Classification, "classification")
    changes = _apply(disposition, {"name": name, "classification": classification})
    if skills is not None:
        changes.update(_set_skills(disposition, skills))
    return _save(disposition, action="disposition.update", actor=actor, changes=changes)


@tenant_atomic
def disposition_delete(*, disposition: Disposition, actor: Actor) -> None:
    _named_delete(disposition, actor=actor)


# --- unavailable codes ----------------------------------------------------------------------------

@tenant_atomic
def unavailable_code_create(*, tenant, name: str, after_contact_work: bool = False, actor: Actor) -> UnavailableCode:
    return _named_create(UnavailableCode, tenant=tenant, name=name, actor=actor,
                         after_contact_work=after_contact_work)


@tenant_atomic
def unavailable_code_update(*, unavailable_code: UnavailableCode, name: str, after_contact_work: bool,
                            actor: Actor) -> UnavailableCode:
    return _named_update(unavailable_code, name=name, actor=actor, after_contact_work=after_contact_work)


@tenant_atomic
def unavailable_code_delete(*, unavailable_code: UnavailableCode, actor: Actor) -> None:
    _named_delete(unavailable_code, actor=actor)


# --- tags -----------------------------------------------------------------------------------------

@tenant_atomic
def tag_create(*, tenant, name: str, description: str = "", actor: Actor) -> Tag:
    return _named_create(Tag, tenant=tenant, name=name, actor=actor, description=description.strip())


@tenant_atomic
def tag_update(*, tag: Tag, name: str, description: str = "", actor: Actor) -> Tag:
    return _named_update(tag, name=name, actor=actor, description=description.strip())


@tenant_atomic
def tag_delete(*, tag: Tag, actor: Actor) -> None:
    _named_delete(tag, actor=actor)


# --- users (sign-in in accounts.User, agent side in AgentProfile) --------------------------------

SkillLevels = Mapping[Skill, int] | Iterable[tuple[Skill, int]]


def _skill_levels(tenant, skills: SkillLevels) -> dict[Skill, int]:
    pairs = list(skills.items()) if isinstance(skills, Mapping) else list(skills)
    levels: dict[Skill, int] = {}
    for skill, proficiency in pairs:
        _check_same_tenant(tenant, skill, "skills")
        if skill in levels:
            raise ApplicationError(_("“%(skill)s” is listed twice; keep one row per skill.") % {"skill": skill.name},
                                   field="skills")
        if not PROFICIENCY_MIN <= int(proficiency) <= PROFICIENCY_MAX:
            raise ApplicationError(_("A proficiency is a whole number from %(min)s to %(max)s.")
                                   % {"min": PROFICIENCY_MIN, "max": PROFICIENCY_MAX}, field="skills")
        levels[skill] = int(proficiency)
    return levels


def _set_assignments(profile: AgentProfile, levels: dict[Skill, int]) -> dict:
    before = {a.skill.name: a.proficiency for a in profile.assignments.select_related("skill")}
    after = {skill.name: level for skill, level in levels.items()}
    if before == after:
        return {}
    profile.assignments.all().delete()
    SkillAssignment.objects.bulk_create(
        SkillAssignment(tenant=profile.tenant, agent=profile, skill=skill, proficiency=level)
        for skill, level in levels.items()
    )
    return {"skills": [before, after]}


def _check_user_fields(tenant, *, role: Role | None, team: Team | None, email: str) -> None:
    if role is None:
        raise ApplicationError(_("Choose a role."), field="role")
    if role.tenant_id != tenant.pk:
        raise ApplicationError(_("Choose one of this tenant's roles."), field="role")
    _check_same_tenant(tenant, team, "team")
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            raise ApplicationError(_("Enter a valid email address."), field="email") from None


def agent_profile_get_or_create(*, user: User) -> AgentProfile:
    """Users made elsewhere (e.g. the first administrator) get their agent side on first use."""
    profile, _created = AgentProfile.objects.get_or_create(tenant_id=user.tenant_id, user=user,
                                                           defaults={"active": user.is_active})
    return profile


@tenant_atomic
def agent_create(*, tenant, username: str, password: str, role: Role, first_name: str = "", last_name: str = "",
                 email: str = "", team: Team | None = None, active: bool = True, skills: SkillLevels = (),
                 actor: Actor) -> User:
    """A user of the tenant: the sign-in (username, password, role) and the agent side in one step."""
    username = (username or "").strip()
    if not username:
        raise ApplicationError(_("Enter a username."), field="username")
    if not password:
        raise ApplicationError(_("Set a password for the new user."), field="password")
    _check_user_fields(tenant, role=role, team=team, email=email)
    levels = _skill_levels(tenant, skills)
    user = user_create(username=username, password=password, tenant=tenant, role=role, first_name=first_name.strip(),
                       last_name=last_name.strip(), email=email.strip(), actor=actor)
    if not active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    profile = AgentProfile.objects.create(tenant=tenant, user=user, team=team, active=active)
    changes = _set_assignments(profile, levels)
    audit_record(action="agent.create", by=actor, tenant=tenant, obj=profile,
                 changes={"team": team.name if team else None, **changes})
    return user


@tenant_atomic
def agent_update(*, user: User, username: str, role: Role, first_name: str = "", last_name: str = "",
                 email: str = "", team: Team | None = None, active: bool = True, skills: SkillLevels | None = None,
                 password: str = "", actor: Actor) -> User:
    """Updates the sign-in and the agent side; an empty password keeps the current one."""
    tenant = user.tenant
    username = (username or "").strip()
    if not username:
        raise ApplicationError(_("Enter a username."), field="username")
    username_check_free(username=username, user=user)
    _check_user_fields(tenant, role=role, team=team, email=email)
    if user == actor.user:
        if not active:
            raise ApplicationError(_("You cannot deactivate your own account."), field="active")
        if role != user.role:
            raise ApplicationError(_("You cannot change your own role; ask another administrator."), field="role")
    changes = _apply(user, {"username": username, "role": role, "first_name": first_name.strip(),
                            "last_name": last_name.strip(), "email": email.strip(), "is_active": active})
    if password:
        user.set_password(password)
        changes["password"] = _("changed")
    user.save()
    profile = agent_profile_get_or_create(user=user)
    changes.update(_apply(profile, {"team": team, "active": active}))
    if skills is not None:
        changes.update(_set_assignments(profile, _skill_levels(tenant, skills)))
    if changes:
        profile.save()  # touches updated_at, which a sync compares
        audit_record(action="agent.update", by=actor, tenant=tenant, obj=profile, changes=changes)
    return user


@tenant_atomic
def agent_delete(*, user: User, actor: Actor) -> None:
    """Removes the sign-in and the agent side; the user can no longer sign in to either tenant."""
    if user == actor.user:
        raise ApplicationError(_("You cannot delete your own account."))
    tenant, username, user_pk = user.tenant, user.username, user.pk
    audit_record(action="agent.delete", by=actor, tenant=tenant, obj=user)
    # The agent side is in the tenant's region, where nothing cascades from the control plane: it goes here.
    AgentProfile.objects.filter(tenant=tenant, user_id=user_pk).delete()
    user.delete()
    # object_id is the accounts.User id; the username is what a sync matches on.
    Deletion.objects.create(tenant=tenant, entity_type=AgentProfile.ENTITY_TYPE, object_id=user_pk,
                            natural_key=username)
