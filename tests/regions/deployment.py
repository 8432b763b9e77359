"""The app deployed as in production, on throwaway servers, for the region-loss tests (docs/architecture.md, "When a
region does not answer"): a control plane and a PostgreSQL server per region (tests/regionservers.py; North
America's in a network namespace of its own, so that it can be cut off), migrated with `manage.py migrate_all`,
filled by tests/regions/seed.py, the static files collected; then, for each test, gunicorn with production's
settings (bcp_project/gunicorn.conf.py) and a stand-in for beat's region probe, each a process of its own, and a
client that talks HTTP to it as a browser would (cookies, CSRF tokens, one request per redirect, each timed).

Nothing here imports Django: the app runs in its own processes, and the tests see only what a person would.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

from tests import regionservers

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "region-loss-pw-2026"
PASSKEY = "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345"
START_SECONDS = 60
STOP_SECONDS = 15
# How often the stand-in for beat probes every region (production: REGION_PROBE_INTERVAL, 5 s).
PROBE_INTERVAL = 5
# Variables of the test run that must not reach the app's processes: they are given their own.
_NOT_INHERITED = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL",
                  "REGION_DATABASE_URLS", "REDIS_URL", "PORT", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS",
                  "CSP_REPORT_ONLY", "CSP_REPORT_URI", "READ_ENV_FILE"}
PROBE_LOOP = f"""
import time
from bcp_project.tasks import region_probe
while True:
    try:
        region_probe()
    except Exception as exc:  # the control plane is up in these tests; say it and go on
        print("probe failed:", exc, flush=True)
    time.sleep({PROBE_INTERVAL})
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Deployment:
    """The servers, the environment every process of the app gets, and the folder for logs and static files."""

    servers: dict[str, regionservers.Server]
    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, name: str = "hloss") -> Deployment:
        folder = Path(tempfile.mkdtemp(prefix=f"bcp-{name}-"))
        servers: dict[str, regionservers.Server] = {}
        try:
            # North America in a namespace of its own (it is the one that goes); the others on 127.0.0.1.
            servers["control"] = regionservers.start(f"{name}-control", own_network=False)
            servers["na"] = regionservers.start(f"{name}-na")
            servers["eu"] = regionservers.start(f"{name}-eu", own_network=False)
            servers["apac"] = regionservers.start(f"{name}-apac", own_network=False)
            deployment = cls(servers=servers, folder=folder)
            deployment.env = deployment._environment()
            deployment.manage("migrate_all", "--noinput", "--verbosity", "0", timeout=300)
            deployment.manage("collectstatic", "--noinput", "--verbosity", "0", timeout=300)
            deployment.manage("shell", "-c", "from tests.regions.seed import seed; "
                              f"seed(password={PASSWORD!r}, passkey={PASSKEY!r})")
        except BaseException:
            for server in servers.values():
                server.remove()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return deployment

    def _environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
        env.update(
            DJANGO_SETTINGS_MODULE="tests.regions.web_settings", READ_ENV_FILE="false",
            SECRET_KEY=secrets.token_urlsafe(50), BCP_TEST_STATIC_ROOT=str(self.folder / "static"),
            DATABASE_URL=self.servers["control"].url,
            REGION_DATABASE_URLS=",".join(f"{code}={self.servers[code].url}" for code in ("na", "eu", "apac")),
            # Plain HTTP on loopback, as `make run` serves it on this machine.
            SECURE_SSL_REDIRECT="false", SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false",
            SECURE_HSTS_SECONDS="0", WEB_CONCURRENCY="2", PYTHONUNBUFFERED="1",
        )
        if os.environ.get("REDIS_URL"):
            # As in production (CI has Redis): the down-marker and the routing epochs in the shared cache, under keys
            # of this deployment's own (tests/regions/web_settings.py).
            prefix = f"bcp-regionloss-{secrets.token_hex(6)}"
            env.update(REDIS_URL=os.environ["REDIS_URL"], BCP_TEST_CACHE_PREFIX=prefix)
        return env

    @property
    def redis(self) -> bool:
        return bool(self.env.get("REDIS_URL"))

    @property
    def na(self) -> regionservers.Server:
        return self.servers["na"]

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args[:2])} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def python(self, code: str, timeout: float = 60) -> str:
        """Runs `code` in `manage.py shell` (the tests' look at the databases behind the pages)."""
        return self.manage("shell", "-c", code, timeout=timeout)

    def restore(self) -> None:
        """North America answering, marked up, and Classics Inc. active: as the seed left it. A test that failed
        half-way must not leave the next one a region that is down or a pair on its BCP tenant."""
        na = self.na
        if na.hung:
            na.resume()
        if na.partitioned:
            na.heal()
        na.start_again()
        self.python(
            "from django.db import transaction\n"
            "from bcp_project.regions import health\n"
            "from tenants.models import BcpMapping\n"
            "health.mark_up('na')\n"
            "with transaction.atomic():\n"
            "    for mapping in BcpMapping.objects.locked().filter(active_side='secondary'):\n"
            "        mapping.active_side = 'primary'\n"
            "        mapping.routing_epoch += 1\n"
            "        mapping.save(update_fields=['active_side', 'routing_epoch'])\n"
            "from enablement.models import PasskeyAttempt\n"
            "PasskeyAttempt.objects.all().delete()\n"
            "from axes.models import AccessAttempt\n"
            "AccessAttempt.objects.all().delete()\n"
            # A switch back queues the pair's forward sync, and no worker runs here: it would wait, and the next
            # test would find "A sync is waiting to start" on BC Enablement.
            "from bcp_project.regions import aliases\n"
            "from sync.models import SyncRun\n"
            "for alias in aliases():\n"
            "    SyncRun.objects.using(alias).filter(status__in=SyncRun.ACTIVE).delete()\n"
        )

    def remove(self) -> None:
        problems = []
        if self.env.get("BCP_TEST_CACHE_PREFIX"):
            try:
                self.python("from bcp_project.regions import health\nhealth.forget()")  # its keys in the shared cache
            except AssertionError as error:
                problems.append(str(error))
        for server in self.servers.values():
            try:
                server.remove()
            except regionservers.RegionServerError as error:
                problems.append(str(error))
        shutil.rmtree(self.folder, ignore_errors=True)
        if problems:
            raise regionservers.RegionServerError("; ".join(problems))


@dataclass
class App:
    """gunicorn and the probe loop of one test."""

    url: str
    web: subprocess.Popen
    probe: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def app_start(deployment: Deployment, name: str) -> App:
    port = _free_port()
    env = dict(deployment.env, PORT=str(port))
    log = deployment.folder / f"{name}.log"
    with open(log, "w") as out:
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "bcp_project/gunicorn.conf.py",
                                "bcp_project.wsgi"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
        probe = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", PROBE_LOOP], cwd=ROOT, env=env,
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    app = App(url=f"http://127.0.0.1:{port}", web=web, probe=probe, log=log)
    deadline = time.monotonic() + START_SECONDS
    while True:
        if web.poll() is not None:
            app_stop(app)
            raise AssertionError(f"gunicorn stopped at start:\n{app.log_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                app_stop(app)
                raise AssertionError(f"gunicorn did not listen in {START_SECONDS} s:\n{app.log_text()}") from None
            time.sleep(0.2)
    return app


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_SECONDS)


def app_stop(app: App) -> None:
    _stop(app.probe)
    _stop(app.web)


# --- a client that talks to it as a browser does ------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    method: str
    url: str
    status: int
    headers: dict
    text: str
    seconds: float

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def visible(self) -> str:
        """The page's text as a person reads it: tags gone, entities decoded, whitespace collapsed."""
        body = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", self.text)
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()


class Client:
    """One person's browser: cookies, CSRF tokens, redirects followed hop by hop. Every request is timed and kept
    in `timings` (and in the test's shared `log`, when given), and none may take longer than `bound` seconds."""

    def __init__(self, base: str, *, bound: float, log: list | None = None, who: str = ""):
        self.base, self.bound, self.who = base, bound, who
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)
        self.log = log if log is not None else []

    def twin(self, who: str) -> Client:
        """Another tab of the same browser: the same cookies (the jar is thread-safe), its own name in the log."""
        other = Client(self.base, bound=self.bound, log=self.log, who=who)
        other.cookies = self.cookies
        other.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)
        return other

    def _csrf(self) -> str:
        return next((cookie.value for cookie in self.cookies if cookie.name == "csrftoken"), "")

    def request(self, method: str, path: str, data: dict | None = None, *, follow: bool = True) -> Response:
        url = urllib.parse.urljoin(self.base, path)
        while True:
            body = None
            headers = {"Accept-Language": "en"}
            if data is not None:
                body = urllib.parse.urlencode({"csrfmiddlewaretoken": self._csrf(), **data}, doseq=True).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                headers["Referer"] = url
            started = time.monotonic()
            try:
                with self.opener.open(urllib.request.Request(url, data=body, method=method, headers=headers),
                                      timeout=self.bound + 30) as raw:
                    status, raw_headers, text = raw.status, dict(raw.headers), raw.read().decode()
            except urllib.error.HTTPError as error:
                status, raw_headers, text = error.code, dict(error.headers), error.read().decode()
            seconds = time.monotonic() - started
            response = Response(method, url, status, raw_headers, text, seconds)
            self.log.append((self.who, method, urllib.parse.urlsplit(url).path, status, seconds))
            assert seconds < self.bound, (
                f"{self.who}: {method} {url} took {seconds:.2f} s (bound {self.bound} s), answered {status}")
            if not (follow and status in (301, 302, 303) and response.location):
                return response
            url, method, data = urllib.parse.urljoin(url, response.location), "GET", None

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> Response:
        return self.request("POST", path, data, **kwargs)

    def sign_in(self, username: str, password: str = PASSWORD) -> Response:
        self.get("/sign-in/")
        return self.post("/sign-in/", {"username": username, "password": password})
