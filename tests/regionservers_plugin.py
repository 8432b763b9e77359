"""Fixtures for tests that need a region's database to go away (tests/regionservers.py), registered from
tests/conftest.py.

    def test_it_fails_fast_when_the_region_is_cut_off(region_server):
        region_server.partition()
        ...

    @pytest.mark.region_servers
    def test_it_uses_two(region_servers):
        na, eu = region_servers("na"), region_servers("eu")

`region_server` is a fresh server for one test, removed after it; `region_servers` is a session-wide factory,
every server it made removed at the end of the session. Each runs in a network namespace of its own unless asked
`region_servers("na", own_network=False)`.

Where such servers cannot run (no root, no PostgreSQL 15 binaries: a fresh laptop), the tests that use these
fixtures or carry the `region_servers` marker are skipped, saying why. Under CI (REQUIRE_REAL_SERVICES=true) they
fail instead: a region-loss test that did not run proves nothing.
"""

import os

import pytest

from tests import regionservers


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "region_servers: needs throwaway PostgreSQL servers (tests/regionservers.py); skipped where "
                   "they cannot run, except under CI (REQUIRE_REAL_SERVICES=true)",
    )


def require_region_servers(*, own_network: bool = True) -> None:
    """Skip the current test, or fail it under CI, when this machine cannot run throwaway region servers."""
    reason = regionservers.unavailable(own_network=own_network)
    if reason is None:
        return
    if os.environ.get("REQUIRE_REAL_SERVICES", "").lower() == "true":
        pytest.fail(f"REQUIRE_REAL_SERVICES=true, but {reason}.", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item):
    if item.get_closest_marker("region_servers") is not None:
        require_region_servers()


@pytest.fixture(scope="session")
def region_servers():
    """region_servers(name, **start_kwargs) -> a new regionservers.Server; all removed at the session's end."""
    started = []

    def start(name, **kwargs):
        require_region_servers(own_network=kwargs.get("own_network", True))
        server = regionservers.start(name, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.remove()


@pytest.fixture
def region_server():
    """A fresh server (own network namespace, database "bcp") for this test alone."""
    require_region_servers()
    server = regionservers.start("test")
    yield server
    server.remove()
