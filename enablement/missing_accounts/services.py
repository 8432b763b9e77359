"""Nobody locked out: while a BCP tenant is active, an administrator there gives a person of the primary who has no
account on it (made after the last sync, or their copy deleted there) an account, as the sync would have made it.

The account is a copy (`is_bcp_copy`): same username, same password hash, names, email, language and whether it is
active, from the person's record in the control plane (always there, whichever region is down); the role of the
same name on the BCP tenant; and the agent settings (team, skills) read from the primary's region when it answers,
as far as the BCP tenant has that team and those skills. Nothing that exists on the BCP tenant is changed.

The writes, per person, in one transaction of the backup's region with the control plane's inside it (the control
plane commits first, docs/architecture.md "Where data lives"):

1. control plane: the pair's row lock (a switch waits; the BCP tenant must still be active), then the pair's
   fence row locked in the backup's region (the order a switch takes them in; held until the backup's region
   commits, so that a second click for the same person sees both commits of the first), the account, its audit
   row;
2. backup's region: the agent settings and the correlation (primary person -> account), with the hash of the
   account as written, so that the next forward run sees the two as one record and writes only what differs.

A crash between the two commits leaves an account without correlation or agent settings. The person is still
listed (routing finds no account through the correlations, so they cannot sign in with it): the next click takes
that account over and writes what is missing, and the next forward run adopts it by username (a username names one
person, so only a copy of that person can hold it on the BCP tenant). Never a duplicate, never a failed run.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError
from django.utils.translation import gettext as _

from accounts.models import Role, User
from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL, RegionUnavailable, alias_for_mapping, health, region_label
from bcp_project.regions.transactions import tenant_transaction
from contactcenter.models import AgentProfile, Skill, SkillAssignment, Team
from sync.models import Correlation
from sync.services import sync_correlation_write, sync_fence_hold
from tenants.models import BcpMapping

from .selectors import USER, bcp_roles_by_name, describe, missing_people, primary_alias


class AccountsError(ApplicationError):
    pass


def not_active_reason(mapping: BcpMapping) -> str:
    """Why no account can be given now (the primary is active), or "" while the BCP tenant is active."""
    if mapping.active_side == BcpMapping.Side.SECONDARY:
        return ""
    return _("“%(primary)s” is active, so accounts are not given here: the sync gives everyone an account on "
             "“%(bcp)s”, and its next run copies the people listed. This page gives accounts while “%(bcp)s” is "
             "active.") % {"primary": mapping.primary.name, "bcp": mapping.secondary.name}


@dataclass(frozen=True)
class AgentSide:
    """A person's agent settings on the primary, in the BCP tenant's ids, and what the BCP tenant does not have."""

    active: bool
    team_id: int | None = None
    team_name: str | None = None
    skills: tuple[tuple[int, int, str], ...] = ()  # (BCP skill id, proficiency, name)
    # The primary's team and skills that the BCP tenant does not have (made after the last sync): ("team" or
    # "skill", name).
    left_out: tuple[tuple[str, str], ...] = ()


def primary_answers(mapping: BcpMapping) -> bool:
    return not health.is_down(primary_alias(mapping))


def agent_sides(*, mapping: BcpMapping, people: list[User]) -> dict[int, AgentSide] | None:
    """The agent settings of `people` on the primary (person id -> AgentSide; a person without any is left out),
    or None when the primary's region does not answer. Read in a fixed number of queries."""
    if not people or not primary_answers(mapping):
        return None if people else {}
    alias, primary = primary_alias(mapping), mapping.primary_id
    ids = [person.pk for person in people]
    try:
        profiles = {user_id: (active, team_id) for user_id, active, team_id in AgentProfile.objects.using(alias)
                    .filter(tenant_id=primary, user_id__in=ids).values_list("user_id", "active", "team_id")}
        assignments = list(SkillAssignment.objects.using(alias).filter(tenant_id=primary, agent__user_id__in=ids)
                           .values_list("agent__user_id", "skill_id", "proficiency").order_by("skill__name"))
        team_ids = {team_id for _a, team_id in profiles.values() if team_id is not None}
        skill_ids = {skill_id for _u, skill_id, _p in assignments}
        team_names = dict(Team.objects.using(alias).filter(pk__in=team_ids).values_list("pk", "name"))
        skill_names = dict(Skill.objects.using(alias).filter(pk__in=skill_ids).values_list("pk", "name"))
    except RegionUnavailable:
        return None
    links = Correlation.objects.filter(mapping=mapping)
    teams = dict(links.filter(entity_type=Team.ENTITY_TYPE, source_id__in=team_ids)
                 .values_list("source_id", "target_id"))
    skills = dict(links.filter(entity_type=Skill.ENTITY_TYPE, source_id__in=skill_ids)
                  .values_list("source_id", "target_id"))
    sides = {}
    for user_id, (active, team_id) in profiles.items():
        left_out = []
        if team_id is not None and team_id not in teams:
            left_out.append(("team", team_names.get(team_id, str(team_id))))
        held = []
        for owner, skill_id, proficiency in assignments:
            if owner != user_id:
                continue
            if skill_id in skills:
                held.append((skills[skill_id], proficiency, skill_names.get(skill_id, str(skill_id))))
            else:
                left_out.append(("skill", skill_names.get(skill_id, str(skill_id))))
        sides[user_id] = AgentSide(active=active, team_id=teams.get(team_id),
                                   team_name=team_names.get(team_id) if team_id in teams else None,
                                   skills=tuple(held), left_out=tuple(left_out))
    return sides


@dataclass
class Outcome:
    """What giving accounts did, person by person, for the message that follows."""

    given: list[User] = field(default_factory=list)  # the people (on the primary) who have an account now
    settings_unread: list[User] = field(default_factory=list)  # given without agent settings: primary down
    left_out: list[tuple[User, tuple[tuple[str, str], ...]]] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # a sentence per person


def accounts_give(*, mapping: BcpMapping, person_ids: list[int], actor: Actor) -> Outcome:
    """Gives each of `person_ids` (people of the primary) an account on the active BCP tenant, each in its own
    transaction and audited. People who have an account by now are counted as such and left alone."""
    reason = not_active_reason(mapping)
    if reason:
        raise AccountsError(reason)
    chosen = set(person_ids)
    people = missing_people(mapping=mapping, ids=list(chosen))
    outcome = Outcome()
    outcome.already = list(User.objects.filter(pk__in=chosen - {person.pk for person in people},
                                               tenant_id=mapping.primary_id, is_bcp_copy=False))
    if not people:
        return outcome
    sides = agent_sides(mapping=mapping, people=people)
    roles = bcp_roles_by_name(mapping=mapping)
    for person in people:
        role = None
        if person.role is not None:
            role = roles.get(person.role.name.lower())
            if role is None:
                outcome.refused.append(
                    _("%(person)s has the role “%(role)s”, which “%(bcp)s” does not have, so no account was given. "
                      "Add a role of that name under Admin → Roles, then give the account.")
                    % {"person": describe(person), "role": person.role.name, "bcp": mapping.secondary.name})
                continue
        side = None if sides is None else sides.get(person.pk)
        try:
            given = _give_one(mapping=mapping, person=person, role=role, side=side, read=sides is not None,
                              actor=actor)
        except AccountsError as exc:
            outcome.refused.append(exc.message)
            continue
        if not given:
            outcome.already.append(person)
            continue
        outcome.given.append(person)
        if sides is None:
            outcome.settings_unread.append(person)
        elif side is not None and side.left_out:
            outcome.left_out.append((person, side.left_out))
    return outcome


def left_out_text(left_out) -> str:
    """The team and skills an AgentSide leaves out, in the reader's language."""
    return ", ".join((_("team “%(name)s”") if kind == "team" else _("skill “%(name)s”")) % {"name": name}
                     for kind, name in left_out)


def _give_one(*, mapping: BcpMapping, person: User, role: Role | None, side: AgentSide | None, read: bool,
              actor: Actor) -> bool:
    """One person's account, in the order the module's docstring gives; False when they have one already."""
    region = alias_for_mapping(mapping)
    try:
        with tenant_transaction(region):
            return _write_one(mapping=mapping, person=person, role=role, side=side, read=read, actor=actor)
    except IntegrityError:
        # A constraint said no (the locks leave no room for a second writer of the same account): nothing was
        # written, and the list shows where things stand.
        raise AccountsError(_("%(person)s was not given an account: someone else changed it at the same moment. "
                              "Look at the list again.") % {"person": describe(person)}) from None


def _write_one(*, mapping: BcpMapping, person: User, role: Role | None, side: AgentSide | None, read: bool,
               actor: Actor) -> bool:
    bcp_id = mapping.secondary_id
    region = alias_for_mapping(mapping)
    # The pair's row, then its fence in the backup's region: the order a switch takes them in. The second lock
    # is held until the backup's region commits, so that whoever gives the same account next sees both commits.
    locked = BcpMapping.objects.locked().select_related("primary", "secondary").get(pk=mapping.pk)
    reason = not_active_reason(locked)
    if reason:
        raise AccountsError(reason)
    sync_fence_hold(mapping=locked)
    target = (Correlation.objects.filter(mapping=locked, entity_type=USER, source_id=person.pk)
              .values_list("target_id", flat=True).first())
    if target is not None and User.objects.filter(pk=target, tenant_id=bcp_id, is_bcp_copy=True).exists():
        return False
    account = User.objects.filter(tenant_id=bcp_id, username_key=person.username_key).first()
    taken_over = account is not None
    if taken_over and (not account.is_bcp_copy or Correlation.objects.filter(
            mapping=locked, entity_type=USER, target_id=account.pk).exists()):
        raise AccountsError(
            _("%(person)s was not given an account: the account “%(username)s” on “%(bcp)s” belongs to someone "
              "else (renamed on the primary since the last sync). Give that account another username under "
              "Admin → Users, then give this one.")
            % {"person": describe(person), "username": account.username, "bcp": locked.secondary.name})
    if not taken_over:
        account = User(username=person.username, password=person.password, first_name=person.first_name,
                       last_name=person.last_name, email=person.email, is_active=person.is_active,
                       language=person.language, tenant_id=bcp_id, role=role, is_bcp_copy=True,
                       is_staff=False, is_superuser=False)
        account.save(using=CONTROL)
    if side is not None and not AgentProfile.objects.using(region).filter(tenant_id=bcp_id,
                                                                          user_id=account.pk).exists():
        profile = AgentProfile.objects.using(region).create(tenant_id=bcp_id, user_id=account.pk,
                                                            team_id=side.team_id, active=side.active)
        SkillAssignment.objects.using(region).bulk_create(
            SkillAssignment(tenant_id=bcp_id, agent=profile, skill_id=skill_id, proficiency=proficiency)
            for skill_id, proficiency, _name in side.skills)
    sync_correlation_write(mapping=locked, entity_type=USER, source_id=person.pk, target_id=account.pk)
    audit_record(action="user.bcp_account_give", by=actor, tenant=locked.secondary, obj=account, changes={
        "person": person.pk, "username": person.username, "role": role.name if role else None,
        "agent_settings": ("read from the primary" if read else
                           f"not read: {region_label(primary_alias(locked))} did not answer"),
        "team": side.team_name if side else None,
        "skills": {name: level for _id, level, name in side.skills} if side else {},
        "left_out": [f"{kind} {name}" for kind, name in side.left_out] if side else [],
        "taken_over": taken_over})
    return True
