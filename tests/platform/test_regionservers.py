"""The throwaway region servers (tests/regionservers.py) are gone the way they say: stopped refuses at once,
partitioned and hung make the client wait for its own timeout; and each comes back. The region-loss tests rely
on exactly these differences, so they are pinned here with psycopg alone and short timeouts."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests import regionservers

pytestmark = pytest.mark.region_servers

ROOT = Path(__file__).resolve().parents[2]


def _connect(server, **options):
    return psycopg.connect(server.url, connect_timeout=2, autocommit=True, **options)


def _query_in_background(connection):
    """Run `select 1` on a thread; the dict gets "rows" or "error" when it ends."""
    result = {}

    def run():
        try:
            result["rows"] = connection.execute("select 1").fetchall()
        except Exception as error:  # noqa: BLE001
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _timed(function):
    started = time.monotonic()
    try:
        function()
    except psycopg.OperationalError as error:
        return str(error), time.monotonic() - started
    raise AssertionError("it did not fail")


def test_a_stopped_server_refuses_at_once_and_works_when_started_again(region_server):
    open_connection = _connect(region_server)

    region_server.stop()

    message, elapsed = _timed(lambda: _connect(region_server))
    assert "refused" in message
    assert elapsed < 1
    with pytest.raises(psycopg.OperationalError):
        open_connection.execute("select 1")

    region_server.start_again()

    with _connect(region_server) as connection:
        assert connection.execute("select 1").fetchall() == [(1,)]


def test_a_partitioned_server_drops_packets_until_healed(region_server):
    waiting = _connect(region_server)
    with_user_timeout = _connect(region_server, tcp_user_timeout=1000)

    region_server.partition()

    # Nothing comes back, not even a reset: only the client's own timeouts end the wait.
    message, elapsed = _timed(lambda: with_user_timeout.execute("select 1"))
    assert 0.9 < elapsed < 5, message
    thread, result = _query_in_background(waiting)
    message, elapsed = _timed(lambda: _connect(region_server))
    assert "timeout" in message and "refused" not in message
    assert elapsed > 1.9
    assert thread.is_alive()

    region_server.heal()

    with _connect(region_server) as connection:
        assert connection.execute("select 1").fetchall() == [(1,)]
    # The query sent during the partition was dropped, not refused: TCP sends it again and it is answered.
    thread.join(15)
    assert result == {"rows": [(1,)]}


def test_a_hung_server_accepts_and_answers_nothing_until_resumed(region_server):
    waiting = _connect(region_server)

    region_server.hang()
    thread, result = _query_in_background(waiting)

    message, elapsed = _timed(lambda: _connect(region_server))
    assert "timeout" in message and "refused" not in message
    assert elapsed > 1.9
    assert thread.is_alive()

    region_server.resume()

    thread.join(5)
    assert result == {"rows": [(1,)]}
    with _connect(region_server) as connection:
        assert connection.execute("select 1").fetchall() == [(1,)]


def _leftovers(server, pids):
    return [
        *([server.base_dir] if server.base_dir.exists() else []),
        *([server.netns] if Path("/run/netns", server.netns).exists() else []),
        *([server.host_veth] if Path("/sys/class/net", server.host_veth).exists() else []),
        *[pid for pid in pids if regionservers._alive(pid)],
    ]


def test_remove_leaves_nothing_behind_even_when_hung_and_cut_off(region_servers):
    server = region_servers("gone")
    server.hang()
    server.partition()
    pids = server.pids()
    assert len(pids) > 1

    server.remove()

    assert _leftovers(server, pids) == []


def test_the_servers_of_a_process_that_died_are_removed_by_the_next_sweep():
    owner = subprocess.Popen(["sleep", "60"])
    try:
        server = regionservers.start("orphan", owner_pid=owner.pid, remove_at_exit=False)
        pids = server.pids()
    finally:
        owner.kill()
        owner.wait()

    regionservers.sweep()

    assert _leftovers(server, pids) == []


def test_the_command_line_starts_servers_for_ci_and_stops_them(tmp_path):
    state = tmp_path / "servers.json"
    cli = [sys.executable, "-m", "tests.regionservers"]

    started = subprocess.run([*cli, "start", "--owner", str(os.getpid()), "--state", str(state), "na"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert started.returncode == 0, started.stderr
    line = started.stdout.strip()
    assert line.startswith("REGION_DATABASE_URLS=na=postgres://postgres@127.0.0.1:")
    url = line.split("=", 2)[2]
    with psycopg.connect(url, connect_timeout=2, autocommit=True) as connection:
        # pytest-django makes test_<name> databases (with a suffix per xdist worker) on each region's server.
        connection.execute("create database test_bcp_gw0")
    [base_dir] = json.loads(state.read_text())

    stopped = subprocess.run([*cli, "stop", "--state", str(state)], cwd=ROOT, capture_output=True, text=True,
                             timeout=60)

    assert stopped.returncode == 0, stopped.stderr
    assert not Path(base_dir).exists()
    assert not state.exists()
