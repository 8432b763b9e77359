"""REGION_DATABASE_URLS (docs/architecture.md, "Where data lives"): with a PostgreSQL control plane every region
needs a database of its own, and an entry we cannot read stops a command with one line that names the setting,
the entry and the region, never the URL (it may hold a password)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the test run or a developer's shell may have set; each test says what it wants instead.
_NOT_INHERITED = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL",
                  "REGION_DATABASE_URLS"}
_FIX = " Fix it in the environment or in this checkout's .env file (make run writes one), then run the command again."


def _check(**env):
    full_env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    full_env.update(SECRET_KEY=secrets.token_urlsafe(50), READ_ENV_FILE="false",
                    DATABASE_URL="postgres://postgres@127.0.0.1:5432/bcp", **env)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=full_env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def test_a_postgresql_control_plane_without_region_databases_stops_with_one_line():
    assert _check() == (
        "REGION_DATABASE_URLS is not set: with a PostgreSQL control plane (DATABASE_URL), name each region's own "
        "database, such as na=postgres://host-na/bcp,eu=postgres://host-eu/bcp,apac=postgres://host-apac/bcp." + _FIX
    )


@pytest.mark.parametrize(("value", "says"), [
    ("na=postgres://u:hunter2@na/bcp,eu", "REGION_DATABASE_URLS must list each region as code=URL, separated by "
                                          "commas, such as na=postgres://host-na/bcp,eu=postgres://host-eu/bcp; "
                                          "entry 2 has no '='."),
    ("na=postgres://u:hunter2@na/bcp,EU=postgres://u:hunter2@eu/bcp",
     "REGION_DATABASE_URLS: entry 2 names the region 'EU'; a region code is lower-case letters, digits and "
     "hyphens (as in Tenant Management), such as na or eu."),
    ("default=postgres://u:hunter2@na/bcp", "REGION_DATABASE_URLS: entry 1 names the region 'default'; a region "
                                            "code is lower-case letters, digits and hyphens (as in Tenant "
                                            "Management), such as na or eu."),
    ("na=postgres://u:hunter2@na/bcp,na=postgres://u:hunter2@eu/bcp",
     "REGION_DATABASE_URLS names the region 'na' twice."),
    ("na=postgres://u:hunter2@na/bcp,eu=mysql://u:hunter2@eu/bcp",
     "REGION_DATABASE_URLS: the URL of region 'eu' must be a postgres:// or postgresql:// or sqlite:// URL such "
     "as na=postgres://host-na/bcp,eu=postgres://host-eu/bcp."),
])
def test_an_entry_it_cannot_read_stops_with_one_line_that_names_it_but_not_its_url(value, says):
    line = _check(REGION_DATABASE_URLS=value)

    assert line == says + _FIX
    assert "hunter2" not in line
