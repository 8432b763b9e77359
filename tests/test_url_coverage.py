"""Every URL has a permission test: each named URL of the resolver must be in a persona table, a table that says
what anonymous, agent, supervisor, tenant_admin, other_admin and rep each get. A new page without a row fails here.

The tables live beside the pages they test; this file only reads them, turning each row into a URL name.
"""

from types import SimpleNamespace

from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from tests import test_url_permissions as foundation
from tests.accounts import test_roles as roles
from tests.contactcenter import test_permissions as contactcenter
from tests.contactcenter import test_user_import as user_import
from tests.continuity import test_drills as drills
from tests.continuity import test_plan_pages as plan
from tests.continuity import test_versions as plan_versions
from tests.enablement import test_pages as enablement
from tests.enablement import test_status as status
from tests.sync import test_pages as sync
from tests.tenants import test_bcp_permissions as bcp
from tests.tenants import test_support as support

# URL names no persona table needs to cover, each with the reason. Django's own and third-party URLs (admin,
# static, i18n's set_language) would go here; none is mounted today.
NOT_OURS: dict[str, str] = {}

AN_ID = SimpleNamespace(pk=1)  # a role's or record's id in a path; the tables' own fixtures make the real ones
A_TENANT_ID = "7d3c3a0e-0000-4000-8000-000000000000"


def url_names(resolver=None, namespace: str = "") -> list[str | None]:
    """Every pattern's full name ("sync:history"), walking included URL configurations; None for a nameless one."""
    names = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names += url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            names.append(f"{namespace}{pattern.name}" if pattern.name else None)
    return names


def _name(path: str) -> str:
    return resolve(path.split("?")[0]).view_name


def covered() -> dict[str, str]:
    """URL name -> the table that covers it, from every persona table of the suite."""
    tables = {
        "tests/test_url_permissions.py EXPECTED_GET/POST": [
            path.format(tenant=A_TENANT_ID) for path in [*foundation.EXPECTED_GET, *foundation.EXPECTED_POST]],
        "tests/accounts/test_roles.py URL_NAMES": [roles._urls(AN_ID)[name] for name in roles.URL_NAMES],
        "tests/tenants/test_bcp_permissions.py URLS": [
            reverse(f"tenants:{name}", args=[A_TENANT_ID]) for name, *_ in bcp.URLS],
        "tests/tenants/test_support.py URLS": [
            reverse(name, args=[A_TENANT_ID] if name == "support:start" else []) for name, *_ in support.URLS],
        "tests/contactcenter/test_permissions.py SLUGS x ACTIONS": [
            contactcenter.url_for(slug, action, AN_ID) for slug in contactcenter.SLUGS
            for action in contactcenter.ACTIONS],
        "tests/contactcenter/test_user_import.py GET_URLS/POST_URLS": [
            *user_import.GET_URLS, *user_import.POST_URLS],
        "tests/sync/test_pages.py URLS": [
            reverse(f"sync:{name}", args=[AN_ID.pk] if name == "run_detail" else []) for name, *_ in sync.URLS],
        "tests/enablement/test_pages.py URLS": [
            reverse(f"enablement:{name}", args=[A_TENANT_ID] if name == "tm_page" else [])
            for name, *_ in enablement.URLS],
        "tests/continuity/test_plan_pages.py URLS": [plan.url_for(name) for name, *_ in plan.URLS],
        "tests/continuity/test_versions.py URLS": [plan_versions.url_for(name) for name, *_ in plan_versions.URLS],
        "tests/continuity/test_drills.py URLS": [drills.url_for(name) for name, *_ in drills.URLS],
        "tests/enablement/test_status.py URLS": [
            reverse(f"status:{name}", args={"region": ["na"], "tenant": [A_TENANT_ID]}.get(name, []))
            for name, *_ in status.URLS],
    }
    return {_name(path): table for table, paths in tables.items() for path in paths}


def test_every_url_has_a_name():
    assert None not in url_names(), "a nameless URL cannot be looked up in a persona table: give it a name"


def test_every_named_url_is_in_a_persona_table():
    uncovered = sorted(set(url_names()) - set(covered()) - set(NOT_OURS))
    assert not uncovered, (
        f"No persona table covers {', '.join(uncovered)}. Add a row with the answer each persona gets (hidden "
        "pages are 404, not 403) to the table of the app's tests, or to tests/test_url_permissions.py.")


def test_the_exceptions_are_real_urls_without_a_table():
    names = set(url_names())
    assert set(NOT_OURS) <= names, "an exception that is no URL any more: remove it"
    assert not set(NOT_OURS) & set(covered()), "an exception that a table covers after all: remove it"
