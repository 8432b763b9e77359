"""Personas (docs/architecture.md, "Tests"): an account representative, a tenant's administrator, supervisor and
agent, the administrator of another tenant, and an anonymous visitor."""

import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from accounts.roles import ADMINISTRATOR, AGENT, SUPERVISOR
from bcp_project import regions
from tests.factories import PASSWORD, RegionFactory, TenantFactory, UserFactory, role_of
from tests.queries import assert_queries, capture_on_commit_everywhere

# region_server / region_servers: throwaway PostgreSQL servers that a test can stop, hang or cut off;
# deployment / app: the app deployed on such servers, as in production (tests/regions/deployment.py).
pytest_plugins = ["tests.regionservers_plugin", "tests.regions.plugin"]


def pytest_sessionstart(session):
    """CI (.ci/run) sets REQUIRE_REAL_SERVICES=true: a run that quietly fell back to SQLite (for the control
    plane or a region) or the filesystem broker would prove nothing about PostgreSQL and Redis, so it fails at
    once."""
    if os.environ.get("REQUIRE_REAL_SERVICES", "").lower() != "true":
        return
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL must point at PostgreSQL")
    elif any(settings.DATABASES[code]["ENGINE"] != "bcp_project.regions.backends.postgresql"
             for code in settings.REGION_DATABASES):  # Django's PostgreSQL with the region guard
        problems.append("REGION_DATABASE_URLS must point every region at PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL must be set")
    if problems:
        pytest.exit("REQUIRE_REAL_SERVICES=true, but " + " and ".join(problems) + ".", returncode=4)


def pytest_collection_modifyitems(items):
    """Every test may use every database: the control plane and each region's (docs/architecture.md, "Where data
    lives"), each a database of its own. (Fixtures reach the database in ways a marker check cannot see, such as
    request.getfixturevalue, so every test gets them.)"""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" in marker.kwargs:
            continue
        kwargs = dict(marker.kwargs) if marker is not None else {}
        args = marker.args if marker is not None else ()
        item.add_marker(pytest.mark.django_db(*args, **kwargs, databases="__all__"), append=False)


@pytest.fixture(autouse=True)
def _in_the_region_of_the_test_tenant(request):
    """A test that has the `tenant` fixture reads, like a request of that tenant, in its region: a query without a
    tenant of its own (`Team.objects.get(name=...)`) goes there. Other tenants' rows are not there (each region
    is its own database), so a test that looks for them must say where."""
    if "tenant" not in request.fixturenames:
        yield
        return
    token = regions.set_current(regions.alias_for_tenant(request.getfixturevalue("tenant")))
    yield
    regions.reset_current(token)


@pytest.fixture
def django_assert_num_queries():
    """Like pytest-django's, counting the queries of every database (tests.queries)."""
    return lambda num, connection=None, info=None: assert_queries(num, info=info)


@pytest.fixture
def django_assert_max_num_queries():
    return lambda num, connection=None, info=None: assert_queries(num, exact=False, info=info)


@pytest.fixture
def django_capture_on_commit_callbacks():
    return capture_on_commit_everywhere


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def region_na(db):
    return RegionFactory(name="North America", code="na")


@pytest.fixture
def region_eu(db):
    return RegionFactory(name="Europe", code="eu")


@pytest.fixture
def tenant(region_na):
    return TenantFactory(name="Classics Inc.", region=region_na)


@pytest.fixture
def other_tenant(region_eu):
    return TenantFactory(name="Northwind Support", region=region_eu)


@pytest.fixture
def rep(db):
    user = UserFactory(username="rep", tenant=None)
    user.user_permissions.add(Permission.objects.get(codename="tm_admin", content_type__app_label="tenants"))
    return user


@pytest.fixture
def tenant_admin(tenant):
    return UserFactory(username="alice", tenant=tenant, role=role_of(tenant, ADMINISTRATOR))


@pytest.fixture
def supervisor(tenant):
    return UserFactory(username="sam", tenant=tenant, role=role_of(tenant, SUPERVISOR))


@pytest.fixture
def agent(tenant):
    return UserFactory(username="andy", tenant=tenant, role=role_of(tenant, AGENT))


@pytest.fixture
def other_admin(other_tenant):
    return UserFactory(username="nora", tenant=other_tenant, role=role_of(other_tenant, ADMINISTRATOR))


@pytest.fixture
def as_persona(client, request):
    """as_persona("rep") -> a test client signed in as that persona (anonymous: not signed in); the names are
    tests/permissions.py's PERSONAS."""

    def sign_in(name):
        if name != "anonymous":
            client.force_login(request.getfixturevalue(name))
        return client

    return sign_in


@pytest.fixture(autouse=True)
def _regions_answering():
    """A region marked down in one test (a drill, a test server stopped on purpose) is not down in the next."""
    yield
    from bcp_project.regions import health

    health.forget()
