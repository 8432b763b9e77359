"""`make bench` section: the Admin Users list with 10,000 users in one tenant.

Runs inside the bench's throw-away database. The tenant is made by the scale generator (bulk writes,
one password hash), then its administrator asks for the list repeatedly in one process.
"""

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

USERS = 10_000
REQUESTS = 30
WARM_UP = 3


def _say(out, line: str) -> None:
    out.write(line + "\n")


def users_list(out, *, users: int = USERS, requests: int = REQUESTS) -> dict[str, dict]:
    from accounts.models import Role, User
    from accounts.roles import ADMINISTRATOR

    from .scale import Plan, generate, scale_tenant_create

    started = time.perf_counter()
    tenant = scale_tenant_create(name="Bench users list")
    generate(tenant=tenant, plan=Plan.for_users(users), password=None, username_prefix="agent")
    admin = User.objects.create(username="bench-admin", tenant=tenant,
                                role=Role.objects.get(tenant=tenant, name=ADMINISTRATOR))
    client = Client()
    client.force_login(admin)
    total = User.objects.filter(tenant=tenant).count()
    url = reverse("contactcenter:user_list")
    agent_role = Role.objects.get(tenant=tenant, name="Agent")
    pages = {
        "first page": {},
        "search": {"q": "agent00421"},
        "later page": {"page": total // 25 // 2},
        "role filter (htmx)": {"role": agent_role.pk, "page": 3},
    }
    _say(out, f"Users list at {total:,} users, {requests} requests each ({connection.vendor}; "
              f"data made in {time.perf_counter() - started:.1f} s):")
    results = {}
    for label, params in pages.items():
        headers = {"HX-Request": "true"} if "htmx" in label else {}
        results[label] = _time(client, url, params, headers, requests)
        r = results[label]
        _say(out, f"  {label:<20} median {r['median']:7.1f} ms   p95 {r['p95']:7.1f} ms   "
                  f"slowest {r['max']:7.1f} ms   {r['queries']} queries")
    return results


def _time(client, url, params, headers, requests) -> dict:
    for _ in range(WARM_UP):  # warm caches and connections
        assert client.get(url, params, headers=headers).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params, headers=headers).status_code == 200
    query_count = len(queries)  # now: the next request empties the log the count is read from
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url, params, headers=headers)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    p95 = statistics.quantiles(timings, n=20)[18] if len(timings) > 1 else timings[0]
    return {"median": statistics.median(timings), "p95": p95, "max": max(timings), "queries": query_count}
