"""A region's database that is gone, each way it goes (docs/architecture.md, "When a region does not answer"): no
query waits on it longer than its bound, the region is then marked down and not touched, the other regions keep
working meanwhile, and the probe brings it back. With a real PostgreSQL server of the test's own, stopped and hung
(SIGSTOP) and cut off (a network namespace whose link goes down) for real, by tests/regionservers.py.

The bounds are behaviour, not speed: a stopped server is refused at once, a hung one is given up at the deadline
(REGION_QUERY_DEADLINE, shortened here to keep the file quick) or, before a connection exists, at the connect
timeout. Each assertion leaves a second of slack for a busy machine.
"""

import contextlib
import os
import threading
import time

import pytest
from django.core.management import call_command
from django.db import DataError, connections
from django.db.utils import load_backend
from django.urls import reverse

from audit.models import AuditEvent
from bcp_project.models import RegionHealth
from bcp_project.regions import health, in_region
from bcp_project.regions.deadline import longer_deadline
from bcp_project.regions.health import RegionNotAnswering
from contactcenter.models import Team

ALIAS = "hfail"
OTHER = "hfail_other"
DEADLINE = 2
CONNECT_TIMEOUT = 2  # libpq's floor
SLACK = 1.0


def _postgres_alias(server):
    return {"ENGINE": "bcp_project.regions.backends.postgresql", "NAME": server.dbname, "USER": "postgres",
            "PASSWORD": "", "HOST": server.host, "PORT": str(server.port), "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # As settings.py gives every region, with the test's shorter bounds.
            "OPTIONS": {"connect_timeout": CONNECT_TIMEOUT, "keepalives": 1, "keepalives_idle": 2,
                        "keepalives_interval": 1, "keepalives_count": 2, "tcp_user_timeout": DEADLINE * 1000}}


@contextlib.contextmanager
def _alias(alias, config):
    """A connection of this thread under a name of its own, made at run time: Django's test case lets it be
    (it is in no test's databases, and no test transaction is held open on it)."""
    configured = connections.configure_settings({"default": connections.settings["default"], alias: config})[alias]
    connections[alias] = load_backend(configured["ENGINE"]).DatabaseWrapper(configured, alias)
    try:
        yield configured
    finally:
        with contextlib.suppress(Exception):
            connections[alias].close()
        del connections[alias]


@pytest.fixture
def server(region_server):
    """A throwaway server of this test's own (tests/regionservers.py), in a network namespace of its own."""
    return region_server


@pytest.fixture
def region(db, server, settings):
    """ALIAS: a region whose database is the throwaway server, the only region the probe knows."""
    settings.REGION_QUERY_DEADLINE = DEADLINE
    settings.REGION_PROBE_TIMEOUT = 2
    settings.REGION_DATABASES = [ALIAS]
    with _alias(ALIAS, _postgres_alias(server)):
        yield ALIAS


@pytest.fixture
def other_region(db, region_servers):
    """OTHER's settings: another region's database, on a server of its own."""
    return _postgres_alias(region_servers("hfail-other", own_network=False))


def _select_one(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


def _gives_up(alias) -> float:
    started = time.monotonic()
    with pytest.raises(RegionNotAnswering) as raised:
        _select_one(alias)
    assert raised.value.alias == alias
    return time.monotonic() - started


def test_a_stopped_server_is_given_up_at_once_and_then_not_touched(region, server):
    assert _select_one(region) == 1
    server.stop()

    # The open connection breaks: dropped at once. Connecting again is refused at once, and marks the region down.
    # (In a request, Django's health check before the first query drops the broken connection itself.)
    broken, refused = _gives_up(region), _gives_up(region)
    print(f"stopped server: gave up after {broken:.3f} s (open connection), {refused:.3f} s (connecting)")
    assert broken < SLACK and refused < SLACK

    marked = health.state(region)
    assert not marked.answering and marked.down_since is not None and not marked.forced
    server.start_again()
    # Known down: refused without touching the server, which would answer now.
    assert _gives_up(region) < 0.2
    assert health.state(region).down_since == marked.down_since

    assert health.probe_all() == {region: ""}
    assert health.state(region).answering
    assert _select_one(region) == 1


def test_a_hung_server_is_given_up_at_the_deadline_while_another_region_keeps_answering(region, other_region,
                                                                                       server):
    assert _select_one(region) == 1  # a connection is open: the hang meets it mid-conversation
    stop, latencies, errors = threading.Event(), [], []

    def other_region_user():
        with _alias(OTHER, other_region):
            _use_other_region()

    def _use_other_region():
        try:
            while not stop.is_set():
                started = time.monotonic()
                assert _select_one(OTHER) == 1
                latencies.append(time.monotonic() - started)
                time.sleep(0.02)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    user = threading.Thread(target=other_region_user)
    user.start()
    try:
        server.hang()
        elapsed = _gives_up(region)
        print(f"hung server, open connection: gave up after {elapsed:.3f} s (deadline {DEADLINE} s)")
        assert DEADLINE - 0.2 <= elapsed < DEADLINE + SLACK
        assert _gives_up(region) < 0.2  # marked down: not touched again
    finally:
        stop.set()
        user.join(timeout=10)
    assert not errors
    assert len(latencies) > 20 and max(latencies) < 0.5, f"{len(latencies)} queries, slowest {max(latencies):.3f} s"

    assert not health.state(region).answering
    assert health.probe_all()[region]  # still hung: the probe gives up too, and keeps the mark
    server.resume()
    assert health.probe_all() == {region: ""}
    assert _select_one(region) == 1  # a new connection: the one the deadline broke was dropped


def test_connecting_to_a_hung_server_gives_up_at_the_connect_timeout(region, server):
    server.hang()
    elapsed = _gives_up(region)
    print(f"hung server, new connection: gave up after {elapsed:.3f} s (connect timeout {CONNECT_TIMEOUT} s)")
    assert CONNECT_TIMEOUT - 0.2 <= elapsed < CONNECT_TIMEOUT + SLACK
    assert not health.state(region).answering
    server.resume()


def test_a_partition_is_given_up_at_the_deadline_with_a_connection_open_and_at_the_connect_timeout_without(
        region, server):
    assert _select_one(region) == 1
    server.partition()
    elapsed = _gives_up(region)
    print(f"partition, open connection: gave up after {elapsed:.3f} s (deadline and TCP user timeout {DEADLINE} s)")
    assert elapsed < DEADLINE + SLACK
    health.forget()  # as if the probe had not seen it yet: a new connection meets the partition
    connections[region].close()
    elapsed = _gives_up(region)
    print(f"partition, new connection: gave up after {elapsed:.3f} s (connect timeout {CONNECT_TIMEOUT} s)")
    assert CONNECT_TIMEOUT - 0.2 <= elapsed < CONNECT_TIMEOUT + SLACK
    assert not health.state(region).answering
    server.heal()
    assert health.probe_all() == {region: ""}
    assert _select_one(region) == 1


def test_a_query_longer_than_the_deadline_needs_a_longer_deadline(region, settings):
    settings.REGION_QUERY_DEADLINE = 1
    with pytest.raises(RegionNotAnswering):
        with connections[region].cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1.5)")
    health.mark_up(region)

    with longer_deadline(3), connections[region].cursor() as cursor:
        cursor.execute("SELECT pg_sleep(1.5)")
    assert health.state(region).answering


def test_an_error_the_server_answers_is_not_the_regions_failure(region):
    with pytest.raises(DataError), connections[region].cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert health.state(region).answering
    assert _select_one(region) == 1


def test_the_probe_leaves_a_region_forced_down_alone(region):
    call_command("region", "down", region, stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert health.probe_all() == {region: ""}  # it answers, but a person took it down
    assert health.state(region).forced
    assert _gives_up(region) < 0.2


# --- without a server: the SQLite regions of the tests --------------------------------------------------------


def test_a_region_marked_down_is_refused_by_the_router_and_by_using(tenant):
    health.mark_down("na", "test")
    with pytest.raises(RegionNotAnswering), in_region("na"):
        Team.objects.count()
    with pytest.raises(RegionNotAnswering):
        Team.objects.using("na").count()
    with pytest.raises(RegionNotAnswering):
        Team.objects.filter(tenant=tenant).count()
    assert Team.objects.using("eu").count() == 0  # the other regions are not concerned

    health.mark_up("na")
    assert Team.objects.filter(tenant=tenant).count() == 0


def test_without_a_shared_cache_every_process_reads_the_control_plane(db, monkeypatch):
    monkeypatch.setattr(health, "_shared_cache", lambda: None)
    assert not health.is_down("na")
    # Another process marked it down: this one sees it once its memo has expired.
    RegionHealth.objects.create(code="na", answering=False, down_since=_now(), checked_at=_now(), reason="x")
    assert not health.is_down("na")  # the memo, for up to a second
    health._memo.clear()
    assert health.is_down("na")


def _now():
    from django.utils import timezone

    return timezone.now()


def test_a_mark_the_probe_does_not_refresh_ages_out_but_a_forced_one_does_not(db, settings):
    from datetime import timedelta

    old = _now() - timedelta(seconds=settings.REGION_DOWN_TTL + 1)
    RegionHealth.objects.create(code="na", answering=False, down_since=old, checked_at=old, reason="x")
    RegionHealth.objects.create(code="eu", answering=False, down_since=old, checked_at=old, reason="x", forced=True)
    monkeypatch_cache = health._shared_cache
    try:
        health._shared_cache = lambda: None
        health._memo.clear()  # as another process, a second later
        assert not health.is_down("na")
        assert health.is_down("eu")
    finally:
        health._shared_cache = monkeypatch_cache


def test_a_mark_made_inside_a_transaction_of_the_control_plane_survives_its_rollback(db):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        health.mark_down("na", "found inside a transaction")
        assert health.is_down("na")
        raise RuntimeError("the request's transaction rolls back")
    assert health.is_down("na")
    assert not RegionHealth.objects.filter(code="na").exists()
    health.flush_pending()
    assert not RegionHealth.objects.get(code="na").answering


def test_the_drill_command_takes_a_region_down_and_brings_it_back(db, capsys):
    call_command("region", "down", "na", "--reason", "drill")
    state = health.state("na")
    assert state.forced and not state.answering and "drill" in state.reason
    assert health.is_down("na")
    event = AuditEvent.objects.get(action="region.down")
    assert event.actor_name == "system" and event.changes["region"] == "na"

    health.probe_all()
    assert health.is_down("na")  # the probe leaves a forced region down, though its file answers
    call_command("region", "status")
    assert "na: DOWN" in capsys.readouterr().out

    call_command("region", "up", "na")
    assert not health.is_down("na") and health.state("na").answering
    assert AuditEvent.objects.filter(action="region.up").count() == 1
    assert "na is answering" in capsys.readouterr().out


def test_a_page_that_meets_a_region_down_is_a_503_naming_it(as_persona, tenant_admin, region_na):
    call_command("region", "down", "na", stdout=open(os.devnull, "w"))  # noqa: SIM115
    response = as_persona("tenant_admin").get(reverse("contactcenter:team_list"))
    assert response.status_code == 503
    page = response.content.decode()
    assert "North America is not answering" in page
    assert f"{health.state('na').down_since:%Y-%m-%d %H:%M} UTC" in page
    assert response["Retry-After"]

    tenant_admin.language = "de"
    tenant_admin.save(update_fields=["language"])
    german = as_persona("tenant_admin").get(reverse("contactcenter:team_list"))
    assert "Nordamerika antwortet nicht" in german.content.decode()
    from django.utils import translation

    with translation.override("de"):
        assert "antwortet nicht" in str(RegionNotAnswering("na"))


def test_healthz_reports_each_region(client, db):
    call_command("region", "down", "eu", stdout=open(os.devnull, "w"))  # noqa: SIM115
    regions = client.get(reverse("healthz")).json()["regions"]
    assert regions["na"]["ok"] is True
    assert regions["eu"]["ok"] is False and regions["eu"]["forced"] is True and regions["eu"]["down_since"]


def test_healthz_names_the_error_of_a_region_down_but_not_its_host(client, db):
    health.mark_down("apac", 'OperationalError: connection to server at "10.0.0.9", port 5432 failed')
    regions = client.get(reverse("healthz")).json()["regions"]
    assert regions["apac"] == {"ok": False, "detail": "OperationalError", "forced": False,
                               "down_since": health.state("apac").down_since.isoformat()}


def test_the_probe_runs_from_beat_and_marks_every_region(db, settings):
    from bcp_project.tasks import region_probe

    assert settings.CELERY_BEAT_SCHEDULE["region-probe"]["task"] == region_probe.name
    health.mark_down("eu", "found down by a request")
    region_probe()
    assert set(RegionHealth.objects.filter(answering=True).values_list("code", flat=True)) == {"na", "eu", "apac"}
    assert not health.is_down("eu")
