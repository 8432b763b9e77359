"""`make bench` section: the sync engine on a primary of --records rows (100,000 by default), and the dispatcher.

Times, in one throw-away database: a full first sync; a second run with nothing changed; a run after 1% of
the records were changed through the services; and, as the floor, the same rows copied inside the database
with set-based INSERT … SELECT into a tenant of its own (the physical limit of this copy). Peak memory is
the Python heap's high-water mark (tracemalloc) of a rerun with --full, which rewrites every record. Then
the dispatcher with 10,000 configurations of which 1,000 are due.
"""

import time
import tracemalloc
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

RECORDS = 100_000


def _timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def sync_engine(out) -> None:
    from audit.services import Actor
    from contactcenter.scale import Plan, generate, scale_bcp_create, scale_tenant_create
    from sync.services import sync_run_execute, sync_run_request

    records = out.options.get("records") or RECORDS
    primary = scale_tenant_create(name="Bench sync primary")
    counts = generate(tenant=primary, plan=Plan.for_records(records), password="bench-password-1",
                      username_prefix="bench.sync.")
    mapping, _passkey = scale_bcp_create(primary=primary)
    rows = sum(counts.values())
    _analyze()

    def one_run(full=False):
        run = sync_run_request(tenant=primary, actor=Actor.system(), trigger="command", enqueue=False, full=full)
        sync_run_execute(run_id=run.pk)
        run.refresh_from_db()
        if run.status != "succeeded":
            raise RuntimeError(f"bench sync run failed: {run.errors[:3]}")
        return run

    floor = _floor(primary)
    full, run = _timed(one_run)
    _analyze()
    unchanged, second = _timed(one_run)
    changed = _change_one_percent(primary, rows)
    one_percent, third = _timed(one_run)
    # Memory is traced on a rerun with --full (every record rewritten): tracing would slow the timed runs.
    tracemalloc.start()
    one_run(full=True)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    out.title = f"Sync engine, a primary of {rows:,} records ({connection.vendor})"
    lines = [
        f"floor: INSERT … SELECT of the same rows      {floor:8.2f} s",
        f"full first sync                             {full:8.2f} s   {full / floor:5.1f}× the floor "
        f"(target ≤ 6×, aim 3×); {run.totals['created'] + run.totals['updated']:,} records written",
        f"second run, nothing changed                 {unchanged:8.2f} s   {100 * unchanged / full:5.1f}% of the "
        f"full sync (target ≤ 10%); {second.totals['unchanged']:,} unchanged, "
        f"{second.totals['created'] + second.totals['updated'] + second.totals['deleted']} written",
        f"run after changing 1% of the records        {one_percent:8.2f} s   {100 * one_percent / full:5.1f}% of "
        f"the full sync (target ≤ 15%); {changed:,} changed, {third.totals['updated']:,} updated",
        f"peak Python memory, a --full rerun          {peak / 2**20:8.1f} MB (target < 500 MB)",
    ]
    dispatched, due = _dispatcher()
    lines.append(f"dispatcher: 10,000 configurations, {due:,} due {dispatched:8.2f} s (target < 2 s)")
    out.lines = lines


def _analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _change_one_percent(primary, rows: int) -> int:
    """Every hundredth record of the main types, changed through the services as an administrator would."""
    from accounts.models import User
    from contactcenter import services as cc
    from contactcenter.models import Skill, Tag, Team

    wanted = max(1, rows // 100)
    changed = 0
    users = list(User.objects.filter(tenant=primary).select_related("role", "agent_profile__team")
                 .order_by("pk")[: wanted * 7 // 10])
    for user in users:
        profile = user.agent_profile
        cc.agent_update(user=user, username=user.username, role=user.role, first_name=user.first_name + "x",
                        last_name=user.last_name, email=user.email, team=profile.team, active=profile.active)
        changed += 1
    for team in Team.objects.filter(tenant=primary).order_by("pk")[: wanted // 10]:
        cc.team_update(team=team, name=team.name + " (renamed)", description=team.description)
        changed += 1
    for tag in Tag.objects.filter(tenant=primary).order_by("pk")[: wanted // 10]:
        cc.tag_update(tag=tag, name=tag.name, description="changed")
        changed += 1
    for skill in Skill.objects.filter(tenant=primary).order_by("pk")[: max(1, wanted // 10)]:
        cc.skill_update(skill=skill, name=skill.name, channel=skill.channel, direction=skill.direction,
                        description="changed")
        changed += 1
    return changed


# The floor: each table copied with one INSERT … SELECT, links resolved by joining on the natural keys through
# their indexes (username_key with the tenant, as the unique index has it).
_FLOOR_SQL = [
    """INSERT INTO contactcenter_team (tenant_id, created_at, updated_at, name, description)
       SELECT %(t)s, created_at, updated_at, name, description FROM contactcenter_team WHERE tenant_id = %(s)s""",
    """INSERT INTO contactcenter_skill (tenant_id, created_at, updated_at, name, channel, direction, description)
       SELECT %(t)s, created_at, updated_at, name, channel, direction, description FROM contactcenter_skill
       WHERE tenant_id = %(s)s""",
    """INSERT INTO contactcenter_hoursofoperation (tenant_id, created_at, updated_at, name, timezone, description)
       SELECT %(t)s, created_at, updated_at, name, timezone, description FROM contactcenter_hoursofoperation
       WHERE tenant_id = %(s)s""",
    """INSERT INTO contactcenter_hoursday (tenant_id, created_at, updated_at, hours_id, day, closed, opens_at,
                                          closes_at)
       SELECT %(t)s, d.created_at, d.updated_at, th.id, d.day, d.closed, d.opens_at, d.closes_at
       FROM contactcenter_hoursday d JOIN contactcenter_hoursofoperation sh ON sh.id = d.hours_id
       JOIN contactcenter_hoursofoperation th ON th.tenant_id = %(t)s AND th.name = sh.name
       WHERE d.tenant_id = %(s)s""",
    """INSERT INTO contactcenter_hoursexception (tenant_id, created_at, updated_at, hours_id, date, name, closed,
                                                 opens_at, closes_at)
       SELECT %(t)s, e.created_at, e.updated_at, th.id, e.date, e.name, e.closed, e.opens_at, e.closes_at
       FROM contactcenter_hoursexception e JOIN contactcenter_hoursofoperation sh ON sh.id = e.hours_id
       JOIN contactcenter_hoursofoperation th ON th.tenant_id = %(t)s AND th.name = sh.name
       WHERE e.tenant_id = %(s)s""",
    """INSERT INTO accounts_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff,
                                  is_active, date_joined, tenant_id, role_id, language, is_bcp_copy, username_key)
       SELECT u.password, NULL, FALSE, u.username, u.first_name, u.last_name, u.email, FALSE, u.is_active,
              u.date_joined, %(t)s, tr.id, u.language, TRUE, u.username_key
       FROM accounts_user u LEFT JOIN accounts_role sr ON sr.id = u.role_id
       LEFT JOIN accounts_role tr ON tr.tenant_id = %(t)s AND tr.name = sr.name
       WHERE u.tenant_id = %(s)s""",
    """INSERT INTO contactcenter_agentprofile (tenant_id, created_at, updated_at, user_id, team_id, active)
       SELECT %(t)s, p.created_at, p.updated_at, tu.id, tt.id, p.active
       FROM contactcenter_agentprofile p JOIN accounts_user su ON su.id = p.user_id
       JOIN accounts_user tu ON tu.tenant_id = %(t)s AND tu.username_key = su.username_key
       LEFT JOIN contactcenter_team st ON st.id = p.team_id
       LEFT JOIN contactcenter_team tt ON tt.tenant_id = %(t)s AND tt.name = st.name
       WHERE p.tenant_id = %(s)s""",
    """INSERT INTO contactcenter_skillassignment (tenant_id, created_at, updated_at, agent_id, skill_id, proficiency)
       SELECT %(t)s, a.created_at, a.updated_at, tp.id, tk.id, a.proficiency
       FROM contactcenter_skillassignment a JOIN contactcenter_agentprofile sp ON sp.id = a.agent_id
       JOIN accounts_user su ON su.id = sp.user_id
       JOIN accounts_user tu ON tu.tenant_id = %(t)s AND tu.username_key = su.username_key
       JOIN contactcenter_agentprofile tp ON tp.user_id = tu.id
       JOIN contactcenter_skill sk ON sk.id = a.skill_id
       JOIN contactcenter_skill tk ON tk.tenant_id = %(t)s AND tk.name = sk.name
       WHERE a.tenant_id = %(s)s""",
    """INSERT INTO contactcenter_pointofcontact (tenant_id, created_at, updated_at, name, channel, address, skill_id,
                                                 hours_id)
       SELECT %(t)s, p.created_at, p.updated_at, p.name, p.channel, p.address, tk.id, th.id
       FROM contactcenter_pointofcontact p JOIN contactcenter_skill sk ON sk.id = p.skill_id
       JOIN contactcenter_skill tk ON tk.tenant_id = %(t)s AND tk.name = sk.name
       JOIN contactcenter_hoursofoperation sh ON sh.id = p.hours_id
       JOIN contactcenter_hoursofoperation th ON th.tenant_id = %(t)s AND th.name = sh.name
       WHERE p.tenant_id = %(s)s""",
    """INSERT INTO contactcenter_disposition (tenant_id, created_at, updated_at, name, classification)
       SELECT %(t)s, created_at, updated_at, name, classification FROM contactcenter_disposition
       WHERE tenant_id = %(s)s""",
    """INSERT INTO contactcenter_disposition_skills (disposition_id, skill_id)
       SELECT td.id, tk.id FROM contactcenter_disposition_skills x
       JOIN contactcenter_disposition sd ON sd.id = x.disposition_id AND sd.tenant_id = %(s)s
       JOIN contactcenter_disposition td ON td.tenant_id = %(t)s AND td.name = sd.name
       JOIN contactcenter_skill sk ON sk.id = x.skill_id
       JOIN contactcenter_skill tk ON tk.tenant_id = %(t)s AND tk.name = sk.name""",
    """INSERT INTO contactcenter_unavailablecode (tenant_id, created_at, updated_at, name, after_contact_work)
       SELECT %(t)s, created_at, updated_at, name, after_contact_work FROM contactcenter_unavailablecode
       WHERE tenant_id = %(s)s""",
    """INSERT INTO contactcenter_tag (tenant_id, created_at, updated_at, name, description)
       SELECT %(t)s, created_at, updated_at, name, description FROM contactcenter_tag WHERE tenant_id = %(s)s""",
]


def _floor(primary) -> float:
    from tenants.models import Region
    from tenants.services import tenant_create

    region = Region.objects.get(code="eu")
    target = tenant_create(name="Bench floor copy", region=region)
    params = {"s": primary.pk.hex if connection.vendor == "sqlite" else primary.pk,
              "t": target.pk.hex if connection.vendor == "sqlite" else target.pk}

    def copy():
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in _FLOOR_SQL:
                cursor.execute(statement, params)

    seconds, _ = _timed(copy)
    return seconds


def _dispatcher() -> tuple[float, int]:
    """10,000 enabled configurations, 1,000 of them due: one dispatch claims and queues the due ones."""
    from sync.models import SyncConfiguration
    from sync.services import sync_dispatch
    from tenants.models import BcpMapping, BcpMembership, Region, Tenant

    region_na, region_eu = Region.objects.get(code="na"), Region.objects.get(code="eu")
    total, due = 10_000, 1_000
    tenants = Tenant.objects.bulk_create(
        [Tenant(name=f"Dispatch {side} {n:05d}", region=region_na if side == "p" else region_eu)
         for n in range(total) for side in ("p", "s")], batch_size=2000)
    now = timezone.now()
    mappings = BcpMapping.objects.bulk_create(
        [BcpMapping(primary=tenants[2 * n], secondary=tenants[2 * n + 1], passkey_hash="bench",
                    passkey_generated_at=now) for n in range(total)], batch_size=2000)
    BcpMembership.objects.bulk_create(
        [BcpMembership(mapping=m, tenant_id=t, side=side) for m in mappings
         for t, side in ((m.primary_id, "primary"), (m.secondary_id, "secondary"))], batch_size=2000)
    SyncConfiguration.objects.bulk_create(
        [SyncConfiguration(mapping=m, enabled=True, anchor_at=now - timedelta(days=1),
                           next_run_at=now - timedelta(minutes=1) if n < due else now + timedelta(hours=n % 24 + 1))
         for n, m in enumerate(mappings)], batch_size=2000)
    _analyze()
    # The messages go to a queue of the bench's own, which no worker reads and which is deleted afterwards.
    from kombu import Exchange, Queue

    from bcp_project.celery import app

    queue = f"bench-dispatch-{int(time.time())}"
    routes = app.conf.task_routes
    app.conf.task_routes = {"sync.run": {"queue": queue}}
    try:
        seconds, result = _timed(lambda: sync_dispatch(now=now))
    finally:
        app.conf.task_routes = routes
        with app.connection_for_write() as conn:
            leftover = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
            leftover.declare()
            leftover.purge()
            leftover.delete()
    if len(result.queued) != due:
        raise RuntimeError(f"dispatcher queued {len(result.queued)} runs, expected {due}")
    return seconds, due
