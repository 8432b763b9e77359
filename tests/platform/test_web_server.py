"""The web process as `make run` starts it outside DEBUG: gunicorn with bcp_project/gunicorn.conf.py,
production settings, static files from whitenoise. A real process on a free port; every wait is bounded."""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60
STOP_SECONDS = 15
_NOT_INHERITED = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL",
                  "PORT", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "CSP_REPORT_ONLY", "CSP_REPORT_URI"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tmp_path, port) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.platform.web_process_settings", BCP_TEST_STATIC_ROOT=str(tmp_path / "static"),
        SECRET_KEY=secrets.token_urlsafe(50), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PORT=str(port),
        # What `make run` sets for plain HTTP on this machine.
        SECURE_SSL_REDIRECT="false", SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
    )
    return env


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own server on loopback)
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _stop(process) -> int | None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_SECONDS)
            return None
    return process.returncode


@pytest.fixture
def web_server(tmp_path):
    port = _free_port()
    env = _environment(tmp_path, port)
    collected = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert collected.returncode == 0, collected.stderr
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "bcp_project/gunicorn.conf.py", "bcp_project.wsgi"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    server = {"url": base, "process": process, "log": log_path}
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, f"gunicorn stopped at start:\n{log_path.read_text()}"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"gunicorn did not listen in {START_SECONDS} s:\n" + (
                    log_path.read_text())
                time.sleep(0.2)
        yield server
    finally:
        _stop(process)


def test_gunicorn_serves_pages_and_static_files_under_the_policy(web_server):
    status, headers, body = _get(web_server["url"] + "/sign-in/")
    assert status == 200, body[:500]
    assert headers["Server"].startswith("gunicorn"), headers["Server"]
    assert "WSGIServer" not in headers["Server"]
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy

    # The stylesheet under its hashed name from the manifest, as the page links it.
    stylesheet = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, body[:1000]
    status, headers, css = _get(web_server["url"] + stylesheet.group(1).decode())
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]
    assert b".htmx-indicator" in css


def test_gunicorn_logs_each_request_and_stops_cleanly(web_server):
    assert _get(web_server["url"] + "/sign-in/")[0] == 200
    # The access log goes to standard output; give the worker a moment to write the line.
    deadline = time.monotonic() + 5
    while '"GET /sign-in/ HTTP/1.1" 200' not in web_server["log"].read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert '"GET /sign-in/ HTTP/1.1" 200' in web_server["log"].read_text()

    assert _stop(web_server["process"]) == 0, web_server["log"].read_text()
    assert "Shutting down: Master" in web_server["log"].read_text()


def test_a_port_that_is_not_a_number_stops_gunicorn_with_the_reason(tmp_path):
    env = _environment(tmp_path, "eighty")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", "bcp_project/gunicorn.conf.py", "bcp_project.wsgi"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "PORT must be a whole number from 1 to 65535, not 'eighty'" in result.stdout + result.stderr
