"""Gunicorn, the web process of `make run` and of production: `gunicorn -c bcp_project/gunicorn.conf.py
bcp_project.wsgi`. Options given on the command line (or in GUNICORN_CMD_ARGS) win over these, e.g.
`--bind 0.0.0.0:8000` behind a proxy on another machine.

Only the listening port (PORT) and the number of processes (WEB_CONCURRENCY) come from the environment,
read as strictly as the Django settings read theirs.
"""

import os

from django.core.exceptions import ImproperlyConfigured


def _whole_number(name: str, default: int, lowest: int, highest: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lowest <= int(raw) <= highest:
        raise ImproperlyConfigured(f"{name} must be a whole number from {lowest} to {highest}, not {raw!r}.")
    return int(raw)


bind = [f"127.0.0.1:{_whole_number('PORT', 8000, 1, 65535)}"]
proc_name = "bcp-web"

# Requests are short (long work runs in Celery), so a few processes with a few threads each serve a demo
# or a small site; two processes let one be replaced while the other answers.
workers = _whole_number("WEB_CONCURRENCY", 2, 1, 64)
worker_class = "gthread"
threads = 4
timeout = 30
# On SIGTERM a worker finishes the requests it has, for at most this long. Below the 5 s that honcho
# waits after Ctrl-C before it kills what is left, so `make run` stops cleanly.
graceful_timeout = 4
keepalive = 5

# gunicornc's control socket is one fixed path per user ($HOME/.gunicorn): a second server on the same
# machine (another checkout, a test) would take it over. We do not use it.
control_socket_disable = True

# Whether a request came over HTTPS is Django's decision (USE_X_FORWARDED_PROTO): gunicorn must not
# decide it too from X-Forwarded-* headers of local clients.
secure_scheme_headers = {}

accesslog = "-"  # standard output, one line per request with its time in milliseconds
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"  # standard error
loglevel = "info"
