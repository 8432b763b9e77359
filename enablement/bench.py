"""make bench: the server time of a switch with 10 and with 100,000 live sessions, and what routing adds to an
authenticated request."""

import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

SESSIONS = (10, 100_000)
SWITCHES = 10


def switch(out) -> None:
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.test import Client, override_settings

    from accounts.models import User
    from accounts.roles import ADMINISTRATOR
    from audit.services import Actor
    from enablement import services
    from enablement.routing import ROUTE_KEY
    from sync.models import SyncConfiguration, SyncRun
    from tenants.bcp.services import mapping_create, passkey_generate, passkey_hash
    from tenants.models import Region
    from tenants.services import tenant_create

    na, _ = Region.objects.get_or_create(code="na", defaults={"name": "North America"})
    eu, _ = Region.objects.get_or_create(code="eu", defaults={"name": "Europe"})
    primary = tenant_create(name="Bench switch primary", region=na, actor=Actor.system())
    secondary = tenant_create(name="Bench switch BCP", region=eu, actor=Actor.system())
    passkey = passkey_generate()
    mapping = mapping_create(primary=primary, secondary=secondary, region=eu, passkey_hash=passkey_hash(passkey),
                             configurations_enabled=True, enablement_enabled=True, actor=Actor.system())
    now = timezone.now()
    mapping.secondary_enabled_at = now
    mapping.save(update_fields=["secondary_enabled_at"])
    SyncConfiguration.objects.create(mapping=mapping, enabled=True, anchor_at=now, next_run_at=now + timedelta(days=1))
    SyncRun.objects.create(mapping=mapping, status=SyncRun.Status.SUCCEEDED, trigger=SyncRun.Trigger.FIRST,
                           started_at=now, finished_at=now)
    role = primary.roles.get(name=ADMINISTRATOR)
    admin = User.objects.create_user(username="bench.switch.admin", password="bench-password-1", tenant=primary,
                                     role=role)
    actor = Actor(user=admin)
    store = SessionStore()
    expires = now + timedelta(days=14)

    def sessions(count: int) -> None:
        """Live sessions of the pair's users, as the sign-in leaves them (route and epoch included)."""
        have = Session.objects.count()
        data = store.encode({"_auth_user_id": str(admin.pk), ROUTE_KEY: [mapping.pk, mapping.routing_epoch,
                                                                              "primary"]})
        Session.objects.bulk_create([Session(session_key=f"bench{n:027d}", session_data=data, expire_date=expires)
                                     for n in range(have, count)], batch_size=5000)

    def timed_switches() -> float:
        times = []
        for n in range(SWITCHES):
            side = "secondary" if n % 2 == 0 else "primary"
            started = time.perf_counter()
            result = services.tenant_switch(mapping=mapping, to_side=side, passkey=passkey, actor=actor,
                                            force=True, reason="bench")
            times.append(time.perf_counter() - started)
            assert result.changed
        return statistics.median(times)

    medians = {}
    for count in SESSIONS:
        sessions(count)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        medians[count] = timed_switches()

    # What routing adds to an authenticated request: the queries that read the routing epoch.
    client = Client()
    client.force_login(admin)
    client.get("/profile/")

    def epoch_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get("/profile/")
        return sum("routing_epoch" in q["sql"] for q in captured.captured_queries)

    def routing_cache(backend: str):
        return override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
                                         "routing": {"BACKEND": backend, "LOCATION": "bench-routing"}})

    with routing_cache("django.core.cache.backends.dummy.DummyCache"):
        without_cache = epoch_queries()
    with routing_cache("django.core.cache.backends.locmem.LocMemCache"):
        epoch_queries()  # the first request fills the cache
        with_cache = epoch_queries()
    small, large = medians[SESSIONS[0]], medians[SESSIONS[1]]
    out.title = f"BC Enablement switch ({connection.vendor}), median of {SWITCHES} switches"
    out.lines = [
        f"switch with {SESSIONS[0]:>7,} live sessions   {1000 * small:8.1f} ms",
        f"switch with {SESSIONS[1]:>7,} live sessions   {1000 * large:8.1f} ms   ratio {large / small:4.2f} "
        f"(target ≤ 1.5)",
        f"routing queries per authenticated request: {without_cache} without a cache (target ≤ 1), "
        f"{with_cache} with one (target 0)",
    ]
