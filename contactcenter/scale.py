"""A primary tenant with a large, believable configuration, for benchmarks and load tests.

Writes with bulk_create in batches and hashes one password for every generated user, so 100,000
records take seconds on PostgreSQL rather than hours. Names and addresses are numbered, so they
satisfy every uniqueness constraint; a point of contact always routes to a skill of its own channel.
This is not a service for the product's pages: it writes no audit row per record, only one summary.
"""

import itertools
from dataclasses import dataclass
from datetime import date, time

from django.contrib.auth.hashers import make_password
from django.db import connections

from accounts.models import Role, User
from accounts.roles import ADMINISTRATOR, AGENT, SUPERVISOR
from audit.services import Actor, audit_record
from bcp_project import regions
from bcp_project.regions import CONTROL
from bcp_project.regions.transactions import tenant_atomic
from tenants.bcp.services import mapping_create, passkey_generate, passkey_hash
from tenants.models import Region
from tenants.services import tenant_create

from .models import (
    PROFICIENCY_MAX,
    AgentProfile,
    Channel,
    Classification,
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
)

BATCH_SIZE = 2000
FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca",
               "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Yara"]
LAST_NAMES = ["Adams", "Brooks", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
              "Khan", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Walsh"]
UNAVAILABLE_BASE = ["Break", "Lunch", "Meeting", "Training", "Coaching", "System Issue"]
# (channel, direction) in the mix a large contact center has: mostly inbound phone, then chat and email.
SKILL_MIX = [(Channel.PHONE, Direction.INBOUND)] * 4 + [
    (Channel.PHONE, Direction.OUTBOUND), (Channel.CHAT, Direction.INBOUND), (Channel.CHAT, Direction.INBOUND),
    (Channel.EMAIL, Direction.INBOUND), (Channel.EMAIL, Direction.OUTBOUND), (Channel.SMS, Direction.INBOUND),
    (Channel.SOCIAL, Direction.INBOUND), (Channel.WORK_ITEM, Direction.INBOUND),
]
HOLIDAYS = [(date(2026, 1, 1), "New Year's Day"), (date(2026, 5, 25), "Memorial Day"),
            (date(2026, 7, 3), "Independence Day (observed)"), (date(2026, 9, 7), "Labor Day"),
            (date(2026, 11, 26), "Thanksgiving Day"), (date(2026, 12, 24), "Christmas Eve"),
            (date(2026, 12, 25), "Christmas Day"), (date(2026, 12, 31), "New Year's Eve")]


@dataclass
class Plan:
    """How many rows of each type to create. `users` counts sign-ins; each has an agent profile."""

    users: int
    teams: int
    skills: int
    hours: int
    points_of_contact: int
    dispositions: int
    unavailable_codes: int
    tags: int

    @classmethod
    def for_users(cls, users: int) -> "Plan":
        skills = max(len(SKILL_MIX), users // 40)
        return cls(users=users, teams=max(1, users // 12), skills=skills, hours=max(2, skills // 8),
                   points_of_contact=skills + skills // 2, dispositions=max(4, skills // 3),
                   unavailable_codes=max(len(UNAVAILABLE_BASE) + 1, min(60, users // 500)),
                   tags=max(5, users // 25))

    @classmethod
    def for_records(cls, records: int) -> "Plan":
        """About `records` rows in all: the most users whose plan stays within `records` (at least one)."""
        low, high = 1, max(1, records)
        while low < high:  # row_count grows with users: bisect
            middle = (low + high + 1) // 2
            if cls.for_users(middle).row_count() <= records:
                low = middle
            else:
                high = middle - 1
        return cls.for_users(low)

    def row_count(self) -> int:
        # users + agent profiles + 1.5 skills each; hours: 7 days and the holidays; 3 skills per disposition.
        return (self.users * 2 + assignments_for(self.users) + self.teams + self.skills
                + self.hours * (1 + 7 + len(HOLIDAYS)) + self.points_of_contact + self.dispositions * 4
                + self.unavailable_codes + self.tags)


def assignments_for(users: int) -> int:
    return users + users // 2  # every second user holds two skills


def _batches(iterable, size: int = BATCH_SIZE):
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _create(model, objects, counts: dict, key: str) -> list:
    created = []
    for batch in _batches(objects):
        created.extend(model.objects.bulk_create(batch, batch_size=BATCH_SIZE))
    counts[key] = counts.get(key, 0) + len(created)
    return created


def _address(channel: str, n: int) -> str:
    if channel in (Channel.PHONE, Channel.SMS):
        return f"+1800{n:07d}"
    if channel == Channel.EMAIL:
        return f"queue{n:05d}@scale.example.com"
    if channel == Channel.SOCIAL:
        return f"@scale_care_{n:05d}"
    return f"entry-{channel.replace('_', '-')}-{n:05d}"


@tenant_atomic
def generate(*, tenant, plan: Plan, password: str | None = None, username_prefix: str = "user",
             progress=None) -> dict[str, int]:
    """Fills `tenant` (which has its default roles) according to `plan`; returns the rows created per type.

    Every generated user gets the same password (hashed once), or an unusable one when `password` is None.
    """
    counts: dict[str, int] = {}
    say = progress or (lambda message: None)

    teams = _create(Team, (Team(tenant=tenant, name=f"Team {n:05d}", description=f"Floor {n % 9 + 1}")
                           for n in range(plan.teams)), counts, "teams")
    mix = [SKILL_MIX[n % len(SKILL_MIX)] for n in range(plan.skills)]
    skills = _create(Skill, (Skill(tenant=tenant, name=f"Skill {n:05d} {channel.value}", channel=channel,
                                   direction=direction) for n, (channel, direction) in enumerate(mix)),
                     counts, "skills")
    say(f"teams {len(teams):,}, skills {len(skills):,}")

    hours = _create(HoursOfOperation, (
        HoursOfOperation(tenant=tenant, name=f"Hours {n:04d}", timezone=["America/New_York", "America/Chicago",
                                                                         "America/Los_Angeles", "UTC"][n % 4])
        for n in range(plan.hours)), counts, "hours of operation")
    _create(HoursDay, (
        HoursDay(tenant=tenant, hours=h, day=day, closed=day == 6, opens_at=None if day == 6 else time(8),
                 closes_at=None if day == 6 else (time(20) if day < 5 else time(14)))
        for h in hours for day in range(7)), counts, "opening days")
    _create(HoursException, (
        HoursException(tenant=tenant, hours=h, date=when, name=name, closed=name != "Christmas Eve",
                       opens_at=time(8) if name == "Christmas Eve" else None,
                       closes_at=time(12) if name == "Christmas Eve" else None)
        for h in hours for when, name in HOLIDAYS), counts, "hours exceptions")

    _create(PointOfContact, (
        PointOfContact(tenant=tenant, name=f"Entry {n:05d}", channel=skill.channel, address=_address(skill.channel, n),
                       skill=skill, hours=hours[n % len(hours)])
        for n, skill in ((n, skills[n % len(skills)]) for n in range(plan.points_of_contact))),
        counts, "points of contact")
    classifications = Classification.values
    dispositions = _create(Disposition, (
        Disposition(tenant=tenant, name=f"Outcome {n:04d}", classification=classifications[n % len(classifications)])
        for n in range(plan.dispositions)), counts, "dispositions")
    through = Disposition.skills.through
    _create(through, (
        through(disposition_id=d.pk, skill_id=skills[(n * 3 + k) % len(skills)].pk)
        for n, d in enumerate(dispositions) for k in range(min(3, len(skills)))), counts, "disposition skills")
    _create(UnavailableCode, (
        UnavailableCode(tenant=tenant, name=name, after_contact_work=name == "After-Contact Work")
        for name in (UNAVAILABLE_BASE + ["After-Contact Work"]
                     + [f"Project {n:03d}" for n in range(plan.unavailable_codes - len(UNAVAILABLE_BASE) - 1)])),
        counts, "unavailable codes")
    _create(Tag, (Tag(tenant=tenant, name=f"Tag {n:05d}") for n in range(plan.tags)), counts, "tags")
    say("hours, points of contact, dispositions, unavailable codes and tags")

    _generate_users(tenant=tenant, plan=plan, teams=teams, skills=skills, password=password,
                    prefix=username_prefix, counts=counts, progress=say)
    audit_record(action="contactcenter.scale_generate", by=Actor.system(), tenant=tenant, obj=tenant,
                 changes={"created": counts})
    _refresh_planner_statistics()
    return counts


def _refresh_planner_statistics() -> None:
    """Autovacuum would notice the new rows in a minute; until then PostgreSQL plans the list pages for
    the empty tables it last saw (and, e.g., JIT-compiles a query it thinks is huge). ANALYZE counts the
    rows this transaction inserted too."""
    region = [AgentProfile, SkillAssignment, Team, Skill, HoursOfOperation, HoursDay, HoursException, PointOfContact,
              Disposition, Disposition.skills.through, UnavailableCode, Tag]
    for alias, models in ((CONTROL, [User]), (regions.current(), region)):
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models))


def _generate_users(*, tenant, plan: Plan, teams, skills, password, prefix, counts, progress) -> None:
    roles = {role.name: role for role in Role.objects.filter(tenant=tenant)}
    # One hash for all: hashing 100,000 passwords one by one would take most of a day.
    password_hash = make_password(password if password else None)
    for start in range(0, plan.users, BATCH_SIZE):
        numbers = range(start, min(start + BATCH_SIZE, plan.users))
        users = []
        for n in numbers:
            first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
            role = roles[ADMINISTRATOR if n % 500 == 0 else SUPERVISOR if n % 12 == 1 else AGENT]
            users.append(User(username=f"{prefix}{n:06d}", tenant=tenant, role=role, first_name=first, last_name=last,
                              email=f"{prefix}{n:06d}@scale.example.com", password=password_hash,
                              is_active=n % 50 != 7))
        users = _create(User, users, counts, "users")
        profiles = _create(AgentProfile, (
            AgentProfile(tenant=tenant, user=user, team=teams[n % len(teams)], active=user.is_active)
            for n, user in zip(numbers, users, strict=True)), counts, "agent profiles")
        assignments = []
        for n, profile in zip(numbers, profiles, strict=True):
            held = 2 if n % 2 else 1
            for k in range(held):
                skill = skills[(n + k * 7) % len(skills)]
                assignments.append(SkillAssignment(tenant=tenant, agent=profile, skill=skill,
                                                   proficiency=(n + k) % PROFICIENCY_MAX + 1))
        _create(SkillAssignment, assignments, counts, "skill assignments")
        progress(f"users {min(start + BATCH_SIZE, plan.users):,} / {plan.users:,}")


def scale_tenant_create(*, name: str):
    """A primary tenant in North America with its default roles, made through the TM service."""
    region = Region.objects.filter(code="na").first() or Region.objects.create(name="North America", code="na")
    return tenant_create(name=name, region=region, actor=Actor.system())



def scale_bcp_create(*, primary):
    """A BCP tenant in Europe for `primary`, mapped with a new passkey; returns (mapping, passkey)."""
    region = Region.objects.filter(code="eu").first() or Region.objects.create(name="Europe", code="eu")
    secondary = tenant_create(name=f"{primary.name} BCP", region=region, actor=Actor.system())
    passkey = passkey_generate()
    mapping = mapping_create(primary=primary, secondary=secondary, region=region, passkey_hash=passkey_hash(passkey),
                             configurations_enabled=True, enablement_enabled=True, actor=Actor.system())
    return mapping, passkey
