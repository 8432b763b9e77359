"""`make bench` sections for the sync's scheduling: the dispatcher with many configurations.

`dispatcher`: --configurations enabled configurations (100,000 by default), --due of them due (10,000): one
dispatch claims every due one and queues its run; then the dispatch beat makes every 10 s when nothing is due.
The messages go to a queue of the bench's own, which no worker reads and which is deleted afterwards.

Continuous mode's latency (a change on the primary → its copy committed on the backup) needs a worker and beat
as processes: `manage.py bench_continuous`, with `make run` going, and `manage.py bench_tenants` for many pairs.
"""

import time
from contextlib import contextmanager
from datetime import timedelta

from django.db import connections
from django.utils import timezone

CONFIGURATIONS = 100_000
DUE = 10_000


def _analyze() -> None:
    for connection in connections.all():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")


@contextmanager
def bench_queue(prefix: str):
    """sync.run and sync.continuous go to a queue of the bench's own, deleted (with what is left in it) after."""
    from kombu import Exchange, Queue

    from bcp_project.celery import app

    name = f"{prefix}-{int(time.time())}"
    routes = app.conf.task_routes
    app.conf.task_routes = {"sync.run": {"queue": name}, "sync.continuous": {"queue": name}}
    for cached in ("router",):
        app.amqp.__dict__.pop(cached, None)
    try:
        yield name
    finally:
        app.conf.task_routes = routes
        app.amqp.__dict__.pop("router", None)
        with app.connection_for_write() as conn:
            leftover = Queue(name, Exchange(name), routing_key=name)(conn.default_channel)
            leftover.declare()
            leftover.purge()
            leftover.delete()


def make_pairs(count: int, *, prefix: str, primary_region: str = "na", backup_region: str = "eu"):
    """`count` primaries in one region mapped to BCP tenants in another, in bulk: (primaries, mappings)."""
    from tenants.models import BcpMapping, BcpMembership, Region, Tenant

    names = {"na": "North America", "eu": "Europe", "apac": "Asia Pacific"}
    regions = {code: Region.objects.get_or_create(code=code, defaults={"name": names[code]})[0]
               for code in (primary_region, backup_region)}
    tenants = Tenant.objects.bulk_create(
        [Tenant(name=f"{prefix} {side} {n:06d}", region=regions[primary_region if side == "p" else backup_region])
         for n in range(count) for side in ("p", "s")], batch_size=5000)
    now = timezone.now()
    mappings = BcpMapping.objects.bulk_create(
        [BcpMapping(primary=tenants[2 * n], secondary=tenants[2 * n + 1], passkey_hash="bench",
                    passkey_generated_at=now) for n in range(count)], batch_size=5000)
    BcpMembership.objects.bulk_create(
        [BcpMembership(mapping=m, tenant_id=t, side=side) for m in mappings
         for t, side in ((m.primary_id, "primary"), (m.secondary_id, "secondary"))], batch_size=5000)
    return tenants[::2], mappings


def dispatcher(out) -> None:
    from sync.models import SyncConfiguration
    from sync.services import sync_dispatch

    total = out.options.get("configurations") or CONFIGURATIONS
    due = min(out.options.get("due") or DUE, total)
    started = time.perf_counter()
    _primaries, mappings = make_pairs(total, prefix="Dispatch")
    now = timezone.now()
    SyncConfiguration.objects.bulk_create(
        [SyncConfiguration(mapping=m, enabled=True, anchor_at=now - timedelta(days=1),
                           next_run_at=now - timedelta(minutes=1) if n < due else now + timedelta(hours=n % 24 + 1))
         for n, m in enumerate(mappings)], batch_size=5000)
    _analyze()
    seeded = time.perf_counter() - started
    with bench_queue("bench-dispatch"):
        started = time.perf_counter()
        result = sync_dispatch(now=now)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        idle = sync_dispatch(now=now + timedelta(seconds=10))
        idle_seconds = time.perf_counter() - started
    if len(result.queued) != due or idle.queued:
        raise RuntimeError(f"dispatcher queued {len(result.queued)} runs, then {len(idle.queued)}; expected {due}, 0")
    vendor = connections["default"].vendor
    out.title = f"Sync dispatcher, {total:,} configurations ({vendor}; seeded in {seeded:.0f} s)"
    out.lines = [
        f"dispatch: {due:,} of {total:,} due, all claimed and queued  {seconds:8.2f} s (target < 2 s)",
        f"the next dispatch, nothing due                          {idle_seconds:8.2f} s (every 10 s)",
    ]
