"""Fixtures of the region-loss tests (tests/regions/deployment.py), registered from tests/conftest.py so that the
HTTP tests (tests/regions/) and the browser test (tests/e2e/) share one deployment: servers, migrations and data
once per session, the app's processes for each test. Both need throwaway region servers: skipped with a reason
where they cannot run, failed under CI (tests/regionservers_plugin.py)."""

import pytest

from tests.regions import deployment as deployed
from tests.regionservers_plugin import require_region_servers


@pytest.fixture(scope="session")
def deployment():
    require_region_servers()
    made = deployed.Deployment.create()
    yield made
    made.remove()


@pytest.fixture
def app(deployment, request):
    """gunicorn and the region probe, started for this test on a deployment as the seed left it."""
    deployment.restore()
    started = deployed.app_start(deployment, request.node.name)
    yield started
    deployed.app_stop(started)
    # Shown by pytest only when the test failed: what the app's processes said.
    print(f"--- {started.log} (last lines) ---\n" + started.log_text()[-8000:])
