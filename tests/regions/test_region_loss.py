"""Region loss, black-box, with real servers (issue 17, "Regions are real"): the app runs as in production (gunicorn,
production settings, a control plane and a PostgreSQL server per region, a probe every few seconds as beat runs
it; tests/regions/deployment.py), and North America's server -- the primary region of Classics Inc. -- goes away
while connections to it are open, each way a region goes:

- stopped: an immediate shutdown (connections refused at once);
- cut off: its network namespace's link goes down (every packet dropped, nothing refused);
- hung: every process of the server sent SIGSTOP (the port accepts, nothing answers), later SIGCONT.

Each test then walks the emergency through the web layer as the people involved would, and every request must
give up within BOUND seconds; once the region is known to be down, no request touches it (KNOWN_DOWN_BOUND: a
request that touched a hung or cut-off region would wait for its connect timeout or deadline). Then the server
comes back while the BCP tenant is active: nobody is routed to the primary, the sync stays paused, and switching
back works.

Printed (pytest -s): the time from losing the server to the agent's successful sign-in on the backup after the
switch, and the slowest request while the region was down, for each kind of gone.
"""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.regions.deployment import PASSKEY, Client
from tests.regions.seed import BCP_SKILL, BCP_TEAM, OTHER_ADMIN

pytestmark = pytest.mark.region_servers

# REGION_CONNECT_TIMEOUT is 3 s and REGION_QUERY_DEADLINE 4 s (production's defaults): a request that meets the
# region first gives up after one of them, plus the rest of its work.
BOUND = 8.0
# Once the region is marked down nothing waits on it: what is left is the page's own work (a sign-in's password
# hash is the slowest part, about half a second on this machine's two cores).
KNOWN_DOWN_BOUND = 2.5
BACK_SECONDS = 30  # the probe (every 5 s) finds the region answering again
PARALLEL = 8  # gunicorn's threads: 2 workers with 4 each (bcp_project/gunicorn.conf.py, WEB_CONCURRENCY=2)

# The BCP tenant's configuration pages and its copy of the plan, as its administrator opens them during the outage.
BCP_PAGES = ["/admin/", "/admin/roles/", "/admin/users/", "/admin/hours/", "/admin/points-of-contact/",
             "/admin/dispositions/", "/admin/unavailable-codes/", "/admin/tags/", "/admin/sync/",
             "/admin/sync/history/", "/plan/drills/", "/plan/versions/", "/profile/"]
NA = "North America"
PRIMARY, BCP = "Classics Inc.", "Classics Inc. BCP"
BANNER = f"You are working in {BCP} , the backup (BCP) system"


def _account(response) -> str:
    """The tenant My Profile names (data-testid="account-name")."""
    found = re.search(r'data-testid="account-name"[^>]*>\s*<strong>([^<]+)</strong>', response.text)
    return found.group(1) if found else ""


def _in_parallel(tabs, path):
    with ThreadPoolExecutor(len(tabs)) as pool:
        return list(pool.map(lambda tab: tab.get(path), tabs))


def _open_connections(deployment) -> int:
    return int(deployment.python(
        "from django.db import connections\n"
        "with connections['na'].cursor() as cursor:\n"
        "    cursor.execute(\"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \"\n"
        "                   \"AND pid <> pg_backend_pid()\")\n"
        "    print(cursor.fetchone()[0])\n").strip().splitlines()[-1])


def _warm_up(app, deployment, log):
    """People at work before the loss: their sessions are open, and so are the web processes' connections to North
    America (each worker thread keeps its own: pages are opened in parallel, so that every thread has one)."""
    admin = Client(app.url, bound=BOUND, log=log, who="admin (before)")
    agent = Client(app.url, bound=BOUND, log=log, who="agent (before)")
    assert admin.sign_in("admin").url.endswith("/admin/")
    assert _account(agent.sign_in("agent")) == PRIMARY
    tabs = [admin.twin(f"admin (before, tab {n})") for n in range(PARALLEL)]
    for _ in range(3):
        assert {response.status for response in _in_parallel(tabs, "/admin/teams/")} == {200}
    assert admin.get("/plan/").status == 200
    assert agent.get("/profile/").status == 200
    connections = _open_connections(deployment)
    assert connections >= 2, connections
    return admin, agent, tabs, connections


def _walk(app, deployment, *, kind, take_away, bring_back):
    log = []
    admin_before, agent_before, tabs, connections = _warm_up(app, deployment, log)
    before = len(log)

    lost_at = time.monotonic()
    take_away()

    # Sessions that were working on the primary meet the dead region, on the connections the threads hold open: a
    # 503 that names it, within the bound.
    met = _in_parallel(tabs, "/admin/teams/")
    for response in met:
        assert response.status == 503, response.visible()[:500]
        assert f"{NA} is not answering" in response.visible()
    gave_up = ", ".join(f"{response.seconds:.2f}" for response in sorted(met, key=lambda response: response.seconds))
    known_down = len(log)
    # The sign-in page loads.
    anonymous = Client(app.url, bound=BOUND, log=log, who="anonymous")
    assert anonymous.get("/sign-in/").status == 200

    # A tenant of another region works as before.
    other = Client(app.url, bound=BOUND, log=log, who=OTHER_ADMIN)
    assert other.sign_in(OTHER_ADMIN).url.endswith("/admin/")
    teams = other.get("/admin/teams/")
    assert teams.status == 200 and "Tailspin Travel" in teams.visible()

    # Classics Inc.'s administrator signs in and reaches BC Enablement, which says North America's database is
    # not answering and since when; no readiness check fails the page.
    admin = Client(app.url, bound=BOUND, log=log, who="admin")
    assert admin.sign_in("admin").url.endswith("/admin/")
    page = admin.get("/admin/bc-enablement/")
    assert page.status == 200, page.visible()[:500]
    # (The time is a <time> element, whose end tag visible() reads as a space before the full stop.)
    notice = re.search(rf"The database of {NA} is not answering, since (\d{{4}}-\d\d-\d\d \d\d:\d\d) UTC ?\.",
                       page.visible())
    assert notice, page.visible()[:2000]
    for key in ("mapping", "passkey", "sync_enabled", "sync_fresh", "sync_idle", "switch_back", "users"):
        assert f'data-testid="check-{key}"' in page.text
    assert "check-failed" not in page.text, page.visible()
    # Kept, not only cached: the control plane has the mark, with the same since-when.
    kept = json.loads(deployment.python(
        "import json\nfrom bcp_project.models import RegionHealth\n"
        "row = RegionHealth.objects.get(code='na')\n"
        "print(json.dumps([row.answering, f'{row.down_since:%Y-%m-%d %H:%M}']))").strip().splitlines()[-1])
    assert kept == [False, notice.group(1)]
    # Before any switch, Classics Inc.'s people read the plan: the copy on the BCP tenant, in the backup's region.
    plan = agent_before.get("/plan/")
    assert plan.status == 200 and "Grace Hopper" in plan.visible(), plan.visible()[:800]
    assert f"Copy on “{BCP}” as of" in plan.visible()

    # A wrong passkey changes nothing; the right one switches.
    wrong = admin.post("/admin/bc-enablement/switch/", {"bcp_active": "on", "passkey": "WRONG-PASSKEY-0000",
                                                        "confirm": "on"})
    assert wrong.status == 400 and "That passkey is not right, and nothing was changed." in wrong.visible()
    switched = admin.post("/admin/bc-enablement/switch/", {"bcp_active": "on", "passkey": PASSKEY, "confirm": "on"})
    assert switched.url.endswith("/sign-in/") and switched.status == 200
    assert f"The BCP tenant “{BCP}” is active now." in switched.visible()

    # Agents sign in with their usual username and password and land on Classics Inc. BCP.
    agent = Client(app.url, bound=BOUND, log=log, who="agent")
    landed = agent.sign_in("agent")
    signed_in_at = time.monotonic()
    assert _account(landed) == BCP and BANNER in landed.visible(), landed.visible()[:800]
    # The agent who was signed in before is sent to sign in again.
    again = agent_before.get("/profile/")
    assert again.url.split("?")[0].endswith("/sign-in/")

    # The administrator's copy: the BCP tenant's configuration pages and its copy of the plan work.
    admin = Client(app.url, bound=BOUND, log=log, who="admin (BCP)")
    assert admin.sign_in("admin").url.endswith("/admin/")
    assert BCP_TEAM in admin.get("/admin/teams/").visible()
    assert BCP_SKILL in admin.get("/admin/skills/").visible()
    for path in BCP_PAGES:
        opened = admin.get(path)
        assert opened.status == 200, f"{path}: {opened.status} {opened.visible()[:300]}"
    # What the primary has changed since the last sync needs the primary: a page that says so, not an error.
    changes = admin.get("/admin/sync/changes/")
    assert changes.status == 503 and f"{NA} is not answering" in changes.visible(), changes.visible()[:500]
    plan = admin.get("/plan/")
    assert plan.status == 200 and "Grace Hopper" in plan.visible(), plan.visible()[:800]
    assert f"cannot be said now: the database of {NA} is not answering" in plan.visible()
    bcp_page = admin.get("/admin/bc-enablement/")
    assert bcp_page.status == 200 and f"The database of {NA} is not answering" in bcp_page.visible()

    # TM lists every tenant and marks those whose region does not answer.
    rep = Client(app.url, bound=BOUND, log=log, who="rep")
    rep.sign_in("rep")
    listing = rep.get("/tm/tenants/")
    assert listing.status == 200 and "5 tenants" in listing.visible()
    rows = {name: row for name, row in re.findall(r'<tr>\s*<td><a [^>]*>([^<]+)</a></td>(.*?)</tr>', listing.text,
                                                     re.S)}
    assert set(rows) == {"Classics Inc.", "Classics Inc. BCP", "Contoso Care", "Northwind Support",
                         "Tailspin Travel"}
    marked = {name for name, row in rows.items() if 'data-testid="region-down"' in row}
    assert marked == {"Classics Inc.", "Northwind Support"}

    down = log[before:]
    slowest = max(down, key=lambda entry: entry[4])
    after_known = max(entry[4] for entry in log[known_down:])
    marker = "Redis and the control plane" if deployment.redis else "the control plane (no Redis)"
    print(f"\n[{kind}, down-marker in {marker}] {connections} client connections on North America's server at the "
          f"loss; the {PARALLEL} "
          f"requests that met the dead region first gave up after {gave_up} s; slowest request while down: "
          f"{slowest[4]:.2f} s ({slowest[0]}: {slowest[1]} {slowest[2]}); slowest once known down: "
          f"{after_known:.2f} s; server lost -> agent signed in on the backup: {signed_in_at - lost_at:.2f} s "
          f"({len(down)} requests)")
    assert after_known < KNOWN_DOWN_BOUND, [entry for entry in log[known_down:] if entry[4] >= KNOWN_DOWN_BOUND]

    # The server comes back while the BCP tenant is active.
    bring_back()
    deadline = time.monotonic() + BACK_SECONDS
    while json.loads(anonymous.get("/healthz").text)["regions"]["na"]["ok"] is not True:
        assert time.monotonic() < deadline, "the probe did not find North America answering again"
        time.sleep(0.5)
    # Nobody is routed to the primary, and the sync stays paused until someone switches back.
    again = Client(app.url, bound=BOUND, log=log, who="agent (region back)")
    assert _account(again.sign_in("agent")) == BCP
    active = admin.get("/admin/bc-enablement/")
    assert "is not answering" not in active.visible() and 'data-testid="region-down-' not in active.text
    assert 'data-testid="side-primary-database">Answering' in active.text
    assert re.search(rf'data-testid="active-tenant".*?<strong>{re.escape(BCP)}</strong>', active.text, re.S)
    sync = admin.get("/admin/sync/")
    assert sync.status == 200, sync.visible()[:1500]
    assert "syncing is paused until someone switches back to the primary on BC Enablement" in sync.visible()
    refused = deployment.python(
        "from audit.services import Actor\nfrom sync.services import SyncError, sync_run_request\n"
        "from tenants.models import Tenant\n"
        "try:\n"
        "    sync_run_request(tenant=Tenant.objects.get(name='Classics Inc.'), actor=Actor.system(), enqueue=False)\n"
        "except SyncError as exc:\n"
        "    print('refused:', exc)\n")
    assert "refused: The BCP tenant is active, so syncing is paused" in refused, refused

    # Switching back works: the agent lands on Classics Inc. again.
    back = admin.post("/admin/bc-enablement/switch/", {"passkey": PASSKEY, "confirm": "on"})
    assert back.url.endswith("/sign-in/") and f"The primary tenant “{PRIMARY}” is active again." in back.visible()
    assert "A sync has started" in back.visible(), back.visible()[:800]
    home = Client(app.url, bound=BOUND, log=log, who="agent (switched back)")
    assert _account(home.sign_in("agent")) == PRIMARY
    assert home.get("/plan/").status == 200


def test_the_primary_regions_server_stopped(app, deployment):
    _walk(app, deployment, kind="stopped", take_away=deployment.na.stop, bring_back=deployment.na.start_again)


def test_the_primary_regions_server_cut_off(app, deployment):
    _walk(app, deployment, kind="cut off", take_away=deployment.na.partition, bring_back=deployment.na.heal)


def test_the_primary_regions_server_hung(app, deployment):
    _walk(app, deployment, kind="hung", take_away=deployment.na.hang, bring_back=deployment.na.resume)
