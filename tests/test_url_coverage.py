"""Every URL has a permission test: each named URL of the resolver must be in a persona table, a table that says
what anonymous, agent, supervisor, tenant_admin, other_admin and rep each get. A new page without a row fails here.

The tables live beside the pages they test, each a list of tests/permissions.py's Row named URLS; this file only
reads the URL names of their rows.
"""

from django.urls import URLPattern, URLResolver, get_resolver

from tests import test_url_permissions as foundation
from tests.accounts import test_roles as roles
from tests.contactcenter import test_permissions as contactcenter
from tests.contactcenter import test_user_import as user_import
from tests.continuity import test_drills as drills
from tests.continuity import test_plan_pages as plan
from tests.continuity import test_versions as plan_versions
from tests.enablement import test_everyone_told as everyone_told
from tests.enablement import test_missing_accounts as missing_accounts
from tests.enablement import test_pages as enablement
from tests.enablement import test_status as status
from tests.sync import test_pages as sync
from tests.tenants import test_bcp_permissions as bcp
from tests.tenants import test_support as support

# The test modules whose URLS is a persona table.
TABLES = [foundation, roles, bcp, support, contactcenter, user_import, sync, enablement, missing_accounts,
          everyone_told, plan, plan_versions, drills, status]

# URL names no persona table needs to cover, each with the reason. Django's own and third-party URLs (admin,
# static, i18n's set_language) would go here; none is mounted today.
NOT_OURS: dict[str, str] = {}


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


def covered() -> dict[str, str]:
    """URL name -> the test module whose persona table covers it."""
    return {row.name: module.__name__ for module in TABLES for row in module.URLS}


def test_every_url_has_a_name():
    assert None not in url_names(), "a nameless URL cannot be looked up in a persona table: give it a name"


def test_every_named_url_is_in_a_persona_table():
    uncovered = sorted(set(url_names()) - set(covered()) - set(NOT_OURS))
    assert not uncovered, (
        f"No persona table covers {', '.join(uncovered)}. Add a row with the answer each persona gets (hidden "
        "pages are 404, not 403) to the table (URLS) of the app's tests, or to tests/test_url_permissions.py; a new "
        "table's module goes in TABLES here.")


def test_every_row_names_a_url():
    unknown = sorted(set(covered()) - set(url_names()))
    assert not unknown, f"A persona table has a row for {', '.join(unknown)}, which is no URL name (any more)."


def test_the_exceptions_are_real_urls_without_a_table():
    names = set(url_names())
    assert set(NOT_OURS) <= names, "an exception that is no URL any more: remove it"
    assert not set(NOT_OURS) & set(covered()), "an exception that a table covers after all: remove it"
