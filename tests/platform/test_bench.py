"""`make bench` runs, in a throw-away database of its own, and prints one table per section."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from bcp_project.management.commands.bench import BENCH_SECTIONS

ROOT = Path(__file__).resolve().parents[2]


def _bench_database_url():
    """Never the test database of this session: the command creates and drops `test_<name>`."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return None  # SQLite: the command's test database lives in memory
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/bcp_bench_{os.getpid()}"


def test_every_section_is_a_function():
    for path in BENCH_SECTIONS:
        assert callable(import_string(path)), path


def test_it_prints_a_table_per_section():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "bcp_project.settings_test"
    if url := _bench_database_url():
        env["DATABASE_URL"] = url

    command = [sys.executable, "manage.py", "bench", "--tenants", "50", "--records", "3000", "--repeat", "3",
               "--configurations", "2000", "--due", "200"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "throw-away test database" in lines[0]
    assert "TM tenants list, 50 tenants" in lines
    header = next(line for line in lines if line.startswith("request"))
    assert header.split()[:6] == ["request", "median", "ms", "p95", "ms", "queries"]
    for label in ("first page", "search by name", "filter by region", "page 200", "region filter, page 2 (htmx)"):
        row = next(line for line in lines if line.startswith(label))
        median, p95, queries = row[len(label):].split()[:3]
        assert float(median) > 0 and float(p95) >= float(median) and int(queries) > 0, row
    sync_title = next(line for line in lines if line.startswith("Sync engine, a primary of"))
    for label in ("floor: COPY out, COPY in, remap", "full first sync", "second run, nothing changed",
                  "run after changing 1% of the records", "peak Python memory"):
        assert any(line.startswith(label) for line in lines), (label, sync_title)
    assert "Sync dispatcher, 2,000 configurations" in " ".join(lines)
    assert any(line.startswith("dispatch: 200 of 2,000 due, all claimed and queued") for line in lines)
