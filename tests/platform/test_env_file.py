"""The checkout's .env: `make run` writes it once, a management command run in the checkout reads it (so it
runs the way the app does), and a variable set in the environment still wins. The tests never read it."""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bcp_project.env import read_env_file

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
# What a developer's shell or the test run may have set; each test says what it wants instead.
_NOT_INHERITED = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "READ_ENV_FILE",
                  "DATABASE_URL", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                  "SECURE_HSTS_SECONDS"}
PRINT_SETTINGS = ("from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, "
                  "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECRET_KEY)")
SHELL = ("shell", "--no-imports", "-c", PRINT_SETTINGS)


@pytest.fixture
def checkout(tmp_path):
    """A copy of the code without .env, .run or a database: what a fresh clone has."""
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".venv", ".git", "docs", "tests", "locale", "staticfiles", ".run", ".env", "db.sqlite3", "__pycache__",
        "test-results", ".ci-results.xml", ".pytest_cache", ".ruff_cache"))
    return copy


def _make_env(checkout: Path) -> subprocess.CompletedProcess:
    # The real virtualenv: the recipe only needs its Python, and must not build a new one.
    return subprocess.run(["make", "--no-print-directory", "-C", str(checkout), ".env", f"VENV={VENV}"],
                          capture_output=True, text=True, timeout=60, check=True)


def _manage(checkout: Path, *args, **env) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    full_env.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=checkout, env=full_env, capture_output=True,
                          text=True, timeout=120)


def _key_in(env_file: Path) -> str:
    return re.search(r"^SECRET_KEY=(.+)$", env_file.read_text(), re.MULTILINE).group(1)


def test_make_run_writes_the_env_file_once_for_its_owner_only(checkout):
    _make_env(checkout)
    env_file = checkout / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    lines = env_file.read_text().splitlines()
    for line in ["DEBUG=false", "SECURE_SSL_REDIRECT=false", "SESSION_COOKIE_SECURE=false",
                 "CSRF_COOKIE_SECURE=false", "SECURE_HSTS_SECONDS=0"]:
        assert line in lines
    key = _key_in(env_file)
    assert len(key) >= 50

    _make_env(checkout)
    assert _key_in(env_file) == key, "a second make run must not replace the key (sessions would end)"


def test_a_checkout_from_before_keeps_its_secret_key(checkout):
    (checkout / ".run").mkdir()
    (checkout / ".run" / "secret_key").write_text("the-key-this-checkout-made-before-there-was-a-dot-env-0123456\n")
    _make_env(checkout)
    assert _key_in(checkout / ".env") == "the-key-this-checkout-made-before-there-was-a-dot-env-0123456"


def test_a_management_command_in_the_checkout_runs_with_the_settings_of_make_run(checkout):
    _make_env(checkout)
    result = _manage(checkout, *SHELL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False", "False", "0", _key_in(checkout / ".env")]


def test_a_variable_in_the_environment_wins_over_the_env_file(checkout):
    _make_env(checkout)
    result = _manage(checkout, *SHELL, DEBUG="true", SECRET_KEY="from-the-environment-" * 3)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False", "False", "0", "from-the-environment-" * 3]


def test_without_env_file_or_secret_key_a_command_says_what_to_do_in_one_line(checkout):
    result = _manage(checkout, "seed_demo", "--password", "P", DEBUG="false")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "SECRET_KEY must be set. Fix it in the environment or in this checkout's .env file (make run writes one), "
        "then run the command again."]


def test_read_env_file_fills_in_only_what_is_unset(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("# a comment\nBCP_TEST_FROM_FILE=file\nBCP_TEST_SET_BOTH=file\n")
    monkeypatch.setenv("BCP_TEST_FROM_FILE", "")
    monkeypatch.delenv("BCP_TEST_FROM_FILE")  # unset now, and unset again afterwards
    monkeypatch.setenv("BCP_TEST_SET_BOTH", "environment")
    read_env_file(env_file)
    assert os.environ["BCP_TEST_FROM_FILE"] == "file"
    assert os.environ["BCP_TEST_SET_BOTH"] == "environment"


def test_a_missing_env_file_is_no_error(tmp_path):
    read_env_file(tmp_path / "absent")


def test_the_test_run_never_reads_a_developers_env_file():
    # settings_test sets it for this process and everything the tests start.
    assert os.environ["READ_ENV_FILE"] == "false"
