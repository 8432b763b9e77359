"""What a refused request writes to the log: one line, not a traceback anyone could make the server write."""

import logging
import logging.config

from django.conf import settings
from django.urls import reverse

from bcp_project.logfilters import RefusalsOnOneLine


def _console():
    """The handler the settings give the root logger (the one that writes the log). Configured from the settings
    here, as Django does at start-up: a test that ran a Celery worker or gunicorn in-process may have replaced it."""
    logging.config.dictConfig(settings.LOGGING)
    return next(h for h in logging.getLogger().handlers if any(isinstance(f, RefusalsOnOneLine) for f in h.filters))


def test_a_403_is_one_warning_line_without_a_traceback(client, agent, caplog):
    client.force_login(agent)
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.post(reverse("continuity:plan_start"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.WARNING and record.exc_info is None and record.exc_text is None
    line = _console().format(record)
    assert "\n" not in line and "Forbidden (Permission denied): /plan/start/" in line and "Traceback" not in line


def test_a_refused_host_is_one_line_on_the_console_too(client, db, caplog):
    with caplog.at_level(logging.INFO):
        response = client.get("/sign-in/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    record = next(r for r in caplog.records if r.name == "django.security.DisallowedHost")
    console = _console()
    assert console.filter(record)
    line = console.format(record)
    assert "\n" not in line and "evil.example.com" in line and "Traceback" not in line


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x/",),
            exc_info=__import__("sys").exc_info(), extra={"status_code": 500})
    console = _console()
    assert console.filter(record) and "Traceback" in console.format(record)
