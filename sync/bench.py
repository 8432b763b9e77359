"""`make bench` section: the sync engine on a primary of --records rows (100,000 by default), and the dispatcher.

The primary lives in North America, its BCP tenant in Europe: two databases (two PostgreSQL servers when
REGION_DATABASE_URLS says so; SQLite files otherwise). Times, in throw-away databases: a full first sync; a second
run with nothing changed; a run after 1% of the records were changed through the services (these two the median
of ROUNDS, with each run's SQL statements counted: a run of a tenth of a second moves by a third from one round to
the next on a shared machine); a run that checks by digests (what a run does once per SYNC_DIGEST_EVERY); and, as
the floor, the
same rows moved from the primary's database into the backup's with COPY … TO STDOUT / COPY … FROM STDIN and a
set-based remap there, into a tenant of its own (the physical limit of this copy across two databases). Peak
memory is the Python heap's high-water mark (tracemalloc) of a rerun with --full, which rewrites every record.
The dispatcher has a section of its own (sync/bench_scheduling.py).
"""

import gc
import os
import statistics
import time
import tracemalloc
from contextlib import ExitStack
from datetime import date, datetime
from datetime import time as dt_time
from functools import partial
from unittest import mock

from django.db import connections, transaction
from django.test import override_settings

RECORDS = 100_000
ROUNDS = 9


def _timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


class _Statements:
    """Counts the SQL statements sent on every connection while it is entered (each database's own count)."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.log: list[tuple[float, str, str]] = []

    def __enter__(self):
        self._stack = ExitStack()
        for connection in connections.all():
            self._stack.enter_context(connection.execute_wrapper(self._wrapper(connection.alias)))
        return self

    def _wrapper(self, alias):
        def wrapper(execute, sql, params, many, context):
            self.counts[alias] = self.counts.get(alias, 0) + 1
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self.log.append((time.perf_counter() - started, alias, sql[:300]))
        return wrapper

    def __exit__(self, *exc):
        self._stack.close()

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def sync_engine(out) -> None:
    from audit.services import Actor
    from contactcenter.scale import Plan, generate, scale_bcp_create, scale_tenant_create
    from sync.services import sync_run_execute, sync_run_request

    records = out.options.get("records") or RECORDS
    from bcp_project.regions import in_region

    primary = scale_tenant_create(name="Bench sync primary")
    # The generator's many-to-many rows say no tenant of their own, and its statistics refresh still analyzes the
    # control plane's connection only: the bench names the region, and analyzes every database itself.
    with in_region(primary), mock.patch("contactcenter.scale._refresh_planner_statistics", _analyze):
        counts = generate(tenant=primary, plan=Plan.for_records(records), password="bench-password-1",
                          username_prefix="bench.sync.")
    mapping, _passkey = scale_bcp_create(primary=primary)
    rows = sum(counts.values())
    _analyze()

    def one_run(full=False):
        run = sync_run_request(tenant=primary, actor=Actor.system(), trigger="command", enqueue=False, full=full)
        run = sync_run_execute(run_id=run.pk, region=run._state.db)
        if run.status != "succeeded":
            raise RuntimeError(f"bench sync run failed: {run.errors[:3]}")
        return run

    floor = _floor(primary)
    full, run = _timed(one_run)
    # The runs that follow are timed as a pair in service has them: long after its first sync, whose hundred thousand
    # rows and change-log entries (written, then consumed) autovacuum has cleaned up and counted by then. Left to
    # autovacuum here, it would do that work during the first timed runs, on the same two cores.
    _analyze(vacuum=True)
    # As the worker does once started (bcp_project/celery.py), what the set-up left is moved out of the collector's
    # reach: a full collection in a small run walks only what runs made, not the generator's hundred thousand rows.
    gc.collect()
    gc.freeze()
    # The small runs take a fraction of a second, where one slow statement shows: each is timed ROUNDS times and
    # its median given.
    unchanged_times = []
    for _round in range(ROUNDS):
        with _Statements() as unchanged_statements:
            seconds, second = _timed(one_run)
        unchanged_times.append(seconds)
    unchanged = statistics.median(unchanged_times)
    one_percent_times = []
    for round_number in range(ROUNDS):
        with in_region(primary):
            changed = _change_one_percent(primary, rows, round_number)
        with _Statements() as changed_statements:
            if os.environ.get("BENCH_PROFILE") and round_number == ROUNDS - 1:
                import cProfile
                profile = cProfile.Profile()
                seconds, third = _timed(partial(profile.runcall, one_run))
                profile.dump_stats(os.environ["BENCH_PROFILE"])
                with open(os.environ["BENCH_PROFILE"] + ".sql", "w") as log:
                    for took, alias, statement in changed_statements.log:
                        log.write(f"{took * 1000:8.2f} ms  {alias:8}  {statement}\n")
            else:
                seconds, third = _timed(one_run)
        one_percent_times.append(seconds)
    one_percent = statistics.median(one_percent_times)
    # The check by digests that a run makes when none was made within SYNC_DIGEST_EVERY (an hour by default).
    with override_settings(SYNC_DIGEST_EVERY=0):
        checked, fourth = _timed(one_run)
    # Memory is traced on a rerun with --full (every record rewritten): tracing would slow the timed runs, and
    # slows this one enough that its source transaction waits longer than the usual idle deadline.
    tracemalloc.start()
    with override_settings(SYNC_IDLE_TIMEOUT=600):
        one_run(full=True)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.unfreeze()

    vendors = "/".join(dict.fromkeys(connections[alias].vendor for alias in ("na", "eu")))
    out.title = f"Sync engine, a primary of {rows:,} records, North America → Europe ({vendors})"
    lines = [
        f"floor: COPY out, COPY in, remap, same rows  {floor:8.2f} s",
        f"full first sync                             {full:8.2f} s   {full / floor:5.1f}× the floor "
        f"(target ≤ 3×); {run.totals['created'] + run.totals['updated']:,} records written",
        f"second run, nothing changed                 {unchanged:8.2f} s   {100 * unchanged / full:5.1f}% of the "
        f"full sync (target ≤ 1%); {sum(c['total'] for c in second.counts.values()):,} records compared, "
        f"{second.totals['created'] + second.totals['updated'] + second.totals['deleted']} written, "
        f"{unchanged_statements.total} SQL statements (median of {ROUNDS}: "
        f"{', '.join(f'{t:.3f}' for t in unchanged_times)} s)",
        f"run after changing 1% of the records        {one_percent:8.2f} s   {100 * one_percent / full:5.1f}% of "
        f"the full sync (target ≤ 3%); {changed:,} changed, {third.totals['updated']:,} updated, "
        f"{changed_statements.total} SQL statements (median of {ROUNDS} rounds: "
        f"{', '.join(f'{t:.3f}' for t in one_percent_times)} s)",
        f"run checking by digests, nothing changed    {checked:8.2f} s   {100 * checked / full:5.1f}% of the "
        f"full sync (at most once per SYNC_DIGEST_EVERY); {fourth.totals['updated']:,} updated",
        f"peak Python memory, a --full rerun          {peak / 2**20:8.1f} MB (target < 200 MB)",
    ]
    out.lines = lines


def _analyze(vacuum: bool = False) -> None:
    for connection in connections.all():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")


def _change_one_percent(primary, rows: int, round_number: int = 0) -> int:
    """Every hundredth record of the main types, changed through the services as an administrator would (each
    round to other values)."""
    from accounts.models import User
    from audit.services import Actor
    from contactcenter import services as cc
    from contactcenter.models import Skill, Tag, Team

    actor = Actor.system()
    wanted = max(1, rows // 100)
    changed = 0
    from contactcenter.models import AgentProfile

    users = list(User.objects.filter(tenant=primary).select_related("role").order_by("pk")[: wanted * 7 // 10])
    profiles = {p.user_id: p for p in AgentProfile.objects.filter(tenant=primary, user_id__in=[u.pk for u in users])
                .select_related("team")}
    for user in users:
        profile = profiles[user.pk]
        cc.agent_update(user=user, username=user.username, role=user.role, first_name=user.first_name + "x",
                        last_name=user.last_name, email=user.email, team=profile.team, active=profile.active,
                        actor=actor)
        changed += 1
    for team in Team.objects.filter(tenant=primary).order_by("pk")[: wanted // 10]:
        cc.team_update(team=team, name=f"{team.name[:80]} (renamed {round_number})", description=team.description,
                       actor=actor)
        changed += 1
    for tag in Tag.objects.filter(tenant=primary).order_by("pk")[: wanted // 10]:
        cc.tag_update(tag=tag, name=tag.name, description=f"changed {round_number}", actor=actor)
        changed += 1
    for skill in Skill.objects.filter(tenant=primary).order_by("pk")[: max(1, wanted // 10)]:
        cc.skill_update(skill=skill, name=skill.name, channel=skill.channel, direction=skill.direction,
                        description=f"changed {round_number}", actor=actor)
        changed += 1
    return changed


# The floor: the same rows moved from the primary's region into the backup's with COPY … TO STDOUT / COPY … FROM
# STDIN (PostgreSQL; SQLite: one SELECT and one executemany), into staging tables there, then one set-based
# INSERT … SELECT per table that remaps the links by natural key (names; users by username_key through a map of
# user ids staged from the control plane). Users themselves are copied inside the control plane.
# (staging table, its columns with types, the SELECT on the source (s = primary tenant), the INSERT on the target
#  (t = BCP tenant), the database the SELECT reads: "source" or "control")
_FLOOR = [
    ("f_user_map", "source_id bigint, target_id bigint",
     """SELECT su.id, tu.id FROM accounts_user su
        JOIN accounts_user tu ON tu.tenant_id = %(t)s AND tu.username_key = su.username_key
        WHERE su.tenant_id = %(s)s""", None, "control"),
    ("f_team", "created_at timestamptz, updated_at timestamptz, name text, description text",
     "SELECT created_at, updated_at, name, description FROM contactcenter_team WHERE tenant_id = %(s)s",
     """INSERT INTO contactcenter_team (tenant_id, created_at, updated_at, name, description)
        SELECT %(t)s, created_at, updated_at, name, description FROM f_team""", "source"),
    ("f_skill", "created_at timestamptz, updated_at timestamptz, name text, channel text, direction text, "
                "description text",
     """SELECT created_at, updated_at, name, channel, direction, description FROM contactcenter_skill
        WHERE tenant_id = %(s)s""",
     """INSERT INTO contactcenter_skill (tenant_id, created_at, updated_at, name, channel, direction, description)
        SELECT %(t)s, created_at, updated_at, name, channel, direction, description FROM f_skill""", "source"),
    ("f_hours", "created_at timestamptz, updated_at timestamptz, name text, timezone text, description text",
     """SELECT created_at, updated_at, name, timezone, description FROM contactcenter_hoursofoperation
        WHERE tenant_id = %(s)s""",
     """INSERT INTO contactcenter_hoursofoperation (tenant_id, created_at, updated_at, name, timezone, description)
        SELECT %(t)s, created_at, updated_at, name, timezone, description FROM f_hours""", "source"),
    ("f_day", "created_at timestamptz, updated_at timestamptz, hours_name text, day integer, closed boolean, "
              "opens_at time, closes_at time",
     """SELECT d.created_at, d.updated_at, h.name, d.day, d.closed, d.opens_at, d.closes_at
        FROM contactcenter_hoursday d JOIN contactcenter_hoursofoperation h ON h.id = d.hours_id
        WHERE d.tenant_id = %(s)s""",
     """INSERT INTO contactcenter_hoursday (tenant_id, created_at, updated_at, hours_id, day, closed, opens_at,
                                           closes_at)
        SELECT %(t)s, f.created_at, f.updated_at, th.id, f.day, f.closed, f.opens_at, f.closes_at FROM f_day f
        JOIN contactcenter_hoursofoperation th ON th.tenant_id = %(t)s AND th.name = f.hours_name""", "source"),
    ("f_exception", "created_at timestamptz, updated_at timestamptz, hours_name text, date date, name text, "
                    "closed boolean, opens_at time, closes_at time",
     """SELECT e.created_at, e.updated_at, h.name, e.date, e.name, e.closed, e.opens_at, e.closes_at
        FROM contactcenter_hoursexception e JOIN contactcenter_hoursofoperation h ON h.id = e.hours_id
        WHERE e.tenant_id = %(s)s""",
     """INSERT INTO contactcenter_hoursexception (tenant_id, created_at, updated_at, hours_id, date, name, closed,
                                                 opens_at, closes_at)
        SELECT %(t)s, f.created_at, f.updated_at, th.id, f.date, f.name, f.closed, f.opens_at, f.closes_at
        FROM f_exception f
        JOIN contactcenter_hoursofoperation th ON th.tenant_id = %(t)s AND th.name = f.hours_name""", "source"),
    ("f_profile", "created_at timestamptz, updated_at timestamptz, user_id bigint, team_name text, active boolean",
     """SELECT p.created_at, p.updated_at, p.user_id, t.name, p.active FROM contactcenter_agentprofile p
        LEFT JOIN contactcenter_team t ON t.id = p.team_id WHERE p.tenant_id = %(s)s""",
     """INSERT INTO contactcenter_agentprofile (tenant_id, created_at, updated_at, user_id, team_id, active)
        SELECT %(t)s, f.created_at, f.updated_at, m.target_id, tt.id, f.active FROM f_profile f
        JOIN f_user_map m ON m.source_id = f.user_id
        LEFT JOIN contactcenter_team tt ON tt.tenant_id = %(t)s AND tt.name = f.team_name""", "source"),
    ("f_assignment", "created_at timestamptz, updated_at timestamptz, user_id bigint, skill_name text, "
                     "proficiency integer",
     """SELECT a.created_at, a.updated_at, p.user_id, k.name, a.proficiency FROM contactcenter_skillassignment a
        JOIN contactcenter_agentprofile p ON p.id = a.agent_id JOIN contactcenter_skill k ON k.id = a.skill_id
        WHERE a.tenant_id = %(s)s""",
     """INSERT INTO contactcenter_skillassignment (tenant_id, created_at, updated_at, agent_id, skill_id,
                                                  proficiency)
        SELECT %(t)s, f.created_at, f.updated_at, tp.id, tk.id, f.proficiency FROM f_assignment f
        JOIN f_user_map m ON m.source_id = f.user_id JOIN contactcenter_agentprofile tp ON tp.user_id = m.target_id
        JOIN contactcenter_skill tk ON tk.tenant_id = %(t)s AND tk.name = f.skill_name""", "source"),
    ("f_poc", "created_at timestamptz, updated_at timestamptz, name text, channel text, address text, "
              "skill_name text, hours_name text",
     """SELECT p.created_at, p.updated_at, p.name, p.channel, p.address, k.name, h.name
        FROM contactcenter_pointofcontact p JOIN contactcenter_skill k ON k.id = p.skill_id
        JOIN contactcenter_hoursofoperation h ON h.id = p.hours_id WHERE p.tenant_id = %(s)s""",
     """INSERT INTO contactcenter_pointofcontact (tenant_id, created_at, updated_at, name, channel, address,
                                                  skill_id, hours_id)
        SELECT %(t)s, f.created_at, f.updated_at, f.name, f.channel, f.address, tk.id, th.id FROM f_poc f
        JOIN contactcenter_skill tk ON tk.tenant_id = %(t)s AND tk.name = f.skill_name
        JOIN contactcenter_hoursofoperation th ON th.tenant_id = %(t)s AND th.name = f.hours_name""", "source"),
    ("f_disposition", "created_at timestamptz, updated_at timestamptz, name text, classification text",
     """SELECT created_at, updated_at, name, classification FROM contactcenter_disposition
        WHERE tenant_id = %(s)s""",
     """INSERT INTO contactcenter_disposition (tenant_id, created_at, updated_at, name, classification)
        SELECT %(t)s, created_at, updated_at, name, classification FROM f_disposition""", "source"),
    ("f_disposition_skill", "disposition_name text, skill_name text",
     """SELECT d.name, k.name FROM contactcenter_disposition_skills x
        JOIN contactcenter_disposition d ON d.id = x.disposition_id AND d.tenant_id = %(s)s
        JOIN contactcenter_skill k ON k.id = x.skill_id""",
     """INSERT INTO contactcenter_disposition_skills (disposition_id, skill_id)
        SELECT td.id, tk.id FROM f_disposition_skill f
        JOIN contactcenter_disposition td ON td.tenant_id = %(t)s AND td.name = f.disposition_name
        JOIN contactcenter_skill tk ON tk.tenant_id = %(t)s AND tk.name = f.skill_name""", "source"),
    ("f_code", "created_at timestamptz, updated_at timestamptz, name text, after_contact_work boolean",
     """SELECT created_at, updated_at, name, after_contact_work FROM contactcenter_unavailablecode
        WHERE tenant_id = %(s)s""",
     """INSERT INTO contactcenter_unavailablecode (tenant_id, created_at, updated_at, name, after_contact_work)
        SELECT %(t)s, created_at, updated_at, name, after_contact_work FROM f_code""", "source"),
    ("f_tag", "created_at timestamptz, updated_at timestamptz, name text, description text",
     "SELECT created_at, updated_at, name, description FROM contactcenter_tag WHERE tenant_id = %(s)s",
     """INSERT INTO contactcenter_tag (tenant_id, created_at, updated_at, name, description)
        SELECT %(t)s, created_at, updated_at, name, description FROM f_tag""", "source"),
]

# Users, inside the control plane (roles remapped by name), before the map of user ids is staged.
_FLOOR_USERS = """
    INSERT INTO accounts_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff,
                               is_active, date_joined, tenant_id, role_id, language, is_bcp_copy, username_key)
    SELECT u.password, NULL, FALSE, u.username, u.first_name, u.last_name, u.email, FALSE, u.is_active,
           u.date_joined, %(t)s, tr.id, u.language, TRUE, u.username_key
    FROM accounts_user u LEFT JOIN accounts_role sr ON sr.id = u.role_id
    LEFT JOIN accounts_role tr ON tr.tenant_id = %(t)s AND tr.name = sr.name
    WHERE u.tenant_id = %(s)s"""


def _adapt(connection, value):
    """A value read on one database as the other (SQLite) takes it."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt_time):
        return connection.ops.adapt_timefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _move(source, target, staging: str, columns: str, select: str, params: dict) -> int:
    """The rows of `select` on `source` into a temporary table `staging` on `target`."""
    with target.cursor() as out:
        out.execute(f"CREATE TEMPORARY TABLE {staging} ({columns})")
    if source.vendor == "postgresql" and target.vendor == "postgresql":
        moved = 0
        with source.cursor() as reader, target.cursor() as writer:
            with reader.cursor.copy(f"COPY ({select}) TO STDOUT", params) as rows, \
                    writer.cursor.copy(f"COPY {staging} FROM STDIN") as sink:
                for block in rows:
                    sink.write(block)
                    moved += 1
        return moved
    with source.cursor() as reader:
        reader.execute(select, params)
        rows = [tuple(_adapt(target, value) for value in row) for row in reader.fetchall()]
    width = columns.count(",") + 1
    with target.cursor() as writer:
        writer.executemany(f"INSERT INTO {staging} VALUES ({', '.join(['%s'] * width)})", rows)  # noqa: S608
    return len(rows)


def _floor(primary) -> float:
    """Seconds to move the primary's rows into a fresh tenant in the backup's region, as the floor."""
    from audit.services import Actor
    from bcp_project.regions import CONTROL, alias_for_tenant
    from tenants.models import Region
    from tenants.services import tenant_create

    region = Region.objects.get(code="eu")
    target_tenant = tenant_create(name="Bench floor copy", region=region, actor=Actor.system())
    source, target, control = (connections[alias_for_tenant(primary)], connections[alias_for_tenant(target_tenant)],
                               connections[CONTROL])

    def key(tenant, connection):
        return tenant.pk.hex if connection.vendor == "sqlite" else tenant.pk

    def copy():
        with transaction.atomic(using=CONTROL), transaction.atomic(using=target.alias), \
                transaction.atomic(using=source.alias):
            with control.cursor() as cursor:
                cursor.execute(_FLOOR_USERS, {"s": key(primary, control), "t": key(target_tenant, control)})
            for staging, columns, select, insert, reads in _FLOOR:
                origin = control if reads == "control" else source
                params = {"s": key(primary, origin), "t": key(target_tenant, origin)}
                _move(origin, target, staging, columns, select, params)
                if insert:
                    with target.cursor() as cursor:
                        cursor.execute(insert, {"t": key(target_tenant, target)})
            with target.cursor() as cursor:
                for staging, *_rest in _FLOOR:
                    cursor.execute(f"DROP TABLE {staging}")

    seconds, _ = _timed(copy)
    return seconds
