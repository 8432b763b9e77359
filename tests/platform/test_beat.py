"""Beat and worker as real processes, the way `make run` starts them: beat sends the heartbeat on its
schedule, the worker runs it, the row lands in the database the test reads."""

import faulthandler
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from django.db import connection
from kombu import Exchange, Queue

from bcp_project.celery import app
from bcp_project.health import check_broker
from bcp_project.models import Heartbeat

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60
_NOT_INHERITED = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}


@pytest.fixture
def database_for_processes(tmp_path):
    """(DATABASE_URL for the processes, a function that says whether the heartbeat row is there).

    PostgreSQL: this test's own database. SQLite: the test database lives in this process's memory, so
    the processes get a copy of it in a file (schema and all), read back with sqlite3."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        url = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        return url, lambda: Heartbeat.objects.filter(name="celery").exists()

    path = tmp_path / "processes.sqlite3"
    connection.ensure_connection()
    with closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)

    def heartbeat_written():
        with closing(sqlite3.connect(path, timeout=5)) as db_file:
            return db_file.execute("SELECT 1 FROM bcp_project_heartbeat WHERE name = 'celery'").fetchone() is not None

    return f"sqlite:///{path}", heartbeat_written


def _start(tmp_path, name, args, env):
    log = open(tmp_path / f"{name}.log", "w")  # closed by _stop()
    process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "bcp_project", *args], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log
    return process


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    process.log.close()


@pytest.mark.django_db(transaction=True)
def test_beat_and_worker_processes_write_the_heartbeat(tmp_path, database_for_processes):
    url, heartbeat_written = database_for_processes
    queue = f"bcp-test-{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(DJANGO_SETTINGS_MODULE="tests.platform.celery_process_settings", DATABASE_URL=url,
               BCP_TEST_QUEUE=queue, BCP_TEST_BEAT_SECONDS="2", BCP_TEST_BROKER_DIR=str(tmp_path / "broker"))
    (tmp_path / "broker" / "processed").mkdir(parents=True)
    assert not heartbeat_written()
    # Fail at once, with the reason, rather than watch two processes retry a broker that is not there.
    assert check_broker() == (True, "ok"), f"no broker at {app.conf.broker_url}"

    faulthandler.dump_traceback_later(WAIT_SECONDS + 60, exit=True)  # last resort: never hang CI
    processes = []
    try:
        processes.append(_start(tmp_path, "worker", [
            "worker", "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
        ], env))
        processes.append(_start(tmp_path, "beat", [
            "beat", f"--schedule={tmp_path / 'beat-schedule'}", "--loglevel=INFO",
        ], env))
        deadline = time.monotonic() + WAIT_SECONDS
        while not heartbeat_written():
            exited = [p.args[5] for p in processes if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                logs = "\n".join(f"--- {n}.log\n" + (tmp_path / f"{n}.log").read_text() for n in ("worker", "beat"))
                pytest.fail(f"no heartbeat within {WAIT_SECONDS} s (exited: {exited or 'none'})\n{logs}")
            time.sleep(0.5)
    finally:
        for process in processes:
            _stop(process)
        faulthandler.cancel_dump_traceback_later()
        if not app.conf.broker_url.startswith("filesystem") and check_broker()[0]:
            # Beat may have sent more than one: leave nothing behind in the shared Redis.
            with app.connection_for_write() as conn:
                test_queue = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
                test_queue.declare()
                test_queue.delete()

    beat_log = (tmp_path / "beat.log").read_text()
    assert "Sending due task heartbeat (bcp_project.tasks.heartbeat)" in beat_log
