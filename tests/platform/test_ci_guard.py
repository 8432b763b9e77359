"""CI must not pass on stand-ins: with REQUIRE_REAL_SERVICES=true the test session refuses SQLite and
the filesystem broker before running anything."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collect(**env):
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "tests/platform/test_settings.py"],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120,
    )


def test_it_fails_at_start_without_postgresql_and_redis():
    result = _collect(REQUIRE_REAL_SERVICES="true")

    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL and REDIS_URL must be set" in result.stdout + result.stderr

