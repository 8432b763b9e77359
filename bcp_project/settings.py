"""The one settings module. Everything that differs between machines comes from the environment.

Zero set-up: with nothing set, DEBUG is off and SECRET_KEY is required. `make run` writes the checkout's
`.env` once (a secret key and the plain-HTTP settings of the demo), which this module reads for whatever the
environment leaves unset, so that every command run in the checkout sees what the running app sees. It
uses an SQLite file and an embedded (filesystem) Celery broker; DATABASE_URL and REDIS_URL switch to
PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env, env_bool, env_choice, env_int, env_list, env_region_urls, env_str, env_url, read_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = BASE_DIR / ".run"

# The test settings turn this off, so that a developer's .env never changes what a test run sees.
if env_bool("READ_ENV_FILE", True):
    read_env_file(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", False)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "debug-only-insecure-key-do-not-use-in-production-0123456789")
else:
    SECRET_KEY = env_str("SECRET_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "guardian",
    "axes",
    "bcp_project",
    "audit",
    "tenants",
    "accounts",
    "status",
    "contactcenter",
    "sync",
    "enablement",
    "continuity",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, which answers static files itself: they get the policy too.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.ImpersonationMiddleware",
    "enablement.middleware.RoutingEpochMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "status.middleware.OutageMiddleware",
    # A page that meets a region that does not answer: a 503 naming the region, not a 500.
    "bcp_project.regions.middleware.RegionUnavailableMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bcp_project.urls"
WSGI_APPLICATION = "bcp_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bcp_project.context_processors.htmx",
                "accounts.context_processors.navigation",
                # The switch notice after sign-in and the pair's message (banners.html, the sign-in page).
                "enablement.context_processors.pair_news",
                # The outage banner: the tenant's region not answering, or an outage a representative set.
                "status.context_processors.outage_news",
            ],
        },
    },
]

# Where data lives (docs/architecture.md): DATABASE_URL is the control plane (identity, access, the tenant
# directory, BCP pairs); REGION_DATABASE_URLS gives each region its own database for its tenants' data, and
# its aliases are the region codes. Without it and with an SQLite control plane, the demo's three regions get
# an SQLite file each beside the control plane's, so that the zero-set-up run has the real isolation too.
_DB_SCHEMES = ["postgres", "postgresql", "sqlite"]
_DB_EXAMPLE = "postgres://user:password@host:5432/name"
DATABASES = {
    "default": env.db_url_config(env_url("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", _DB_SCHEMES,
                                         _DB_EXAMPLE)),
}
_region_urls = env_region_urls("REGION_DATABASE_URLS", _DB_SCHEMES, "na=postgres://host-na/bcp,eu=postgres://host-eu/bcp")
if not _region_urls:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        raise ImproperlyConfigured(
            "REGION_DATABASE_URLS is not set: with a PostgreSQL control plane (DATABASE_URL), name each region's "
            "own database, such as na=postgres://host-na/bcp,eu=postgres://host-eu/bcp,apac=postgres://host-apac/bcp."
        )
    _control = Path(DATABASES["default"]["NAME"])
    _region_urls = {code: f"sqlite:///{_control.with_name(f'{_control.stem}-{code}{_control.suffix}')}"
                    for code in ("na", "eu", "apac")}
for _code, _url in _region_urls.items():
    DATABASES[_code] = env.db_url_config(_url)
# The region codes that have a database, in the order configured: creating a region or a tenant anywhere else
# is refused (tenants.services), and the router sends each region's tables to its alias.
REGION_DATABASES = list(_region_urls)

# A region that does not answer must not hold a request for long, whichever way it died (docs/architecture.md,
# "When a region does not answer"): refused at once (connect timeout), packets dropped (keepalives and a TCP
# user timeout) or a hung server (bcp_project.regions.deadline, a deadline kept on our side).
REGION_CONNECT_TIMEOUT = env_int("REGION_CONNECT_TIMEOUT", 3, minimum=1)
REGION_QUERY_DEADLINE = env_int("REGION_QUERY_DEADLINE", 4, minimum=1)
# Long work raises the deadline for its own block (bcp_project.regions.deadline.longer_deadline): the sync's bulk
# copy, migrations, the benchmark.
REGION_LONG_DEADLINE = env_int("REGION_LONG_DEADLINE", 600, minimum=1)
# The probe (bcp_project.tasks.region_probe, from beat) tries each region this often, each try bounded by its own
# timeout; a region it found down and no longer refreshes is tried again by requests after REGION_DOWN_TTL.
REGION_PROBE_INTERVAL = env_int("REGION_PROBE_INTERVAL", 5, minimum=1)
REGION_PROBE_TIMEOUT = env_int("REGION_PROBE_TIMEOUT", 2, minimum=2)
REGION_DOWN_TTL = env_int("REGION_DOWN_TTL", 30, minimum=5)
# The region aliases use Django's backends with a guard (bcp_project.regions.backends): a region marked down is
# not touched, and one that stops answering is marked down.
_REGION_ENGINES = {"django.db.backends.postgresql": "bcp_project.regions.backends.postgresql",
                   "django.db.backends.sqlite3": "bcp_project.regions.backends.sqlite3"}
for _code in REGION_DATABASES:
    DATABASES[_code]["ENGINE"] = _REGION_ENGINES[DATABASES[_code]["ENGINE"]]

for _alias, _config in DATABASES.items():
    _config["ATOMIC_REQUESTS"] = False
    if _config["ENGINE"].endswith("sqlite3"):
        # A busy timeout lets the web process, the worker and beat share a file without "database is locked";
        # WAL lets a sync read a primary's file while people write it.
        _config.setdefault("OPTIONS", {}).update({
            "timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;",
        })
    else:
        _config["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
        _config["CONN_HEALTH_CHECKS"] = True
        _config.setdefault("OPTIONS", {}).update({
            "connect_timeout": REGION_CONNECT_TIMEOUT,
            "keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2,
            "tcp_user_timeout": REGION_QUERY_DEADLINE * 1000,
        })
DATABASE_ROUTERS = ["bcp_project.routers.RegionRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "enablement.backends.ActiveTenantBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Usernames are unique per person, not per row: the BCP tenant holds copies (see accounts.User).
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in throttling (django-axes): per username and address, stored in the database so that
# a restart does not reset the counter; the cool-off is finite.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "accounts.views.signin_locked_out"
AXES_USERNAME_CALLABLE = "accounts.throttling.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("Deutsch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12, minimum=60)

# Production hardening: on unless DEBUG, each can be turned off for a TLS-terminating proxy setup.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "bcp_project.errors.csrf_failure"

# Content-Security-Policy (django-csp): scripts, styles and everything else only from our own origin, as
# files: no inline script, style attribute or event handler, no eval. The templates keep to it and a test
# reads them; htmx is told (base.html's htmx-config) to add no style element and never to eval.
# CSP_REPORT_ONLY=true sends the same policy as Content-Security-Policy-Report-Only, so an operator can
# see what it would block without blocking it.
_CSP_DIRECTIVES = {
    "default-src": [SELF],
    "object-src": [NONE],
    "base-uri": [NONE],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
# Not named CSP_REPORT_ONLY here: django-csp's check takes settings of that old name for a 3.x configuration.
_csp_report_uri = env_str("CSP_REPORT_URI", "")
if _csp_report_uri:
    if not _csp_report_uri.startswith(("/", "https://")):
        raise ImproperlyConfigured(
            f"CSP_REPORT_URI must be a path on this site (/csp-reports/) or an https:// URL, not {_csp_report_uri!r}."
        )
    _CSP_DIRECTIVES["report-uri"] = [_csp_report_uri]
_csp_report_only = env_bool("CSP_REPORT_ONLY", False)
CONTENT_SECURITY_POLICY = None if _csp_report_only else {"DIRECTIVES": _CSP_DIRECTIVES}
CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES} if _csp_report_only else None

REDIS_URL = env_url("REDIS_URL", "", ["redis", "rediss"], "redis://host:6379/0")

# The routing epoch of each BCP pair is read on every signed-in request: from Redis when there is one (no
# query), else from the database (one query). A per-process memory cache would miss other processes' switches.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "routing": ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "bcp"}
                if REDIS_URL else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}),
    # Which regions are down (bcp_project.regions.health): every process reads it before touching a region.
    # Without Redis, the control plane says it.
    # Read before every region query (once a second per process): bounded, so that Redis not answering costs at
    # most half a second before the control plane is asked instead.
    "regions": ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                 "KEY_PREFIX": "bcp-regions", "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
                if REDIS_URL else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}),
}

# Celery: Redis when REDIS_URL is set, otherwise the filesystem transport, which needs no server.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    _broker_dir = RUN_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The worker looks for new messages this often (default 1 s); quicker pick-up, and a quicker
        # warm shutdown, well inside the 5 s honcho allows on Ctrl-C.
        "polling_interval": 0.2,
    }
CELERY_TASK_IGNORE_RESULT = True
# A sync run goes to the queue of its backup's region ("sync.<region code>"); the worker of `make run` and CI
# consumes every region's queue and the default one (`manage.py sync_queues`).
CELERY_TASK_ROUTES = ("sync.services.route_task",)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "bcp_project.tasks.heartbeat", "schedule": 30.0},
    # Marks each region answering or down; a probe not started before the next one is due is dropped.
    "region-probe": {"task": "bcp_project.tasks.region_probe", "schedule": float(REGION_PROBE_INTERVAL),
                     "options": {"expires": float(REGION_PROBE_INTERVAL)}},
    # Claims the sync configurations that are due, and starts continuous changes whose own message was lost.
    "sync-dispatch": {"task": "sync.dispatch", "schedule": 10.0},
    # Continuous mode: changes no signal saw (bulk updates, raw SQL), from the change logs; a look not started
    # before the next one is due is dropped. A change through a service does not wait for it (sync/signals.py).
    "sync-changes": {"task": "sync.changes", "schedule": 1.0, "options": {"expires": 1.0}},
    # The email to everyone of a switch, sent again when the task queue did not answer at the switch or a worker
    # died mid-way (enablement.notices.switches_to_mail); a look not started before the next one is due is dropped.
    "enablement-switch-mail": {"task": "enablement.switch_mail_dispatch", "schedule": 30.0,
                               "options": {"expires": 30.0}},
    # Continuity plans: drill, contact and follow-up reminders; real switches the signal missed become drills.
    "continuity-daily": {"task": "continuity.daily", "schedule": crontab(minute=0, hour=6)},
}
HEARTBEAT_MAX_AGE = timedelta(seconds=env_int("HEARTBEAT_MAX_AGE_SECONDS", 180, minimum=30))

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A refusal (4xx) is one line, without a traceback; on the request logger itself, and on the handler for the
    # django.security.* loggers, whose children a logger's filter does not reach.
    "filters": {"refusals_on_one_line": {"()": "bcp_project.logfilters.RefusalsOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["refusals_on_one_line"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"axes": {"level": "WARNING"},
                "django.request": {"filters": ["refusals_on_one_line"]}},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "bcp@localhost")

IMPERSONATION_MAX_AGE = timedelta(minutes=60)
PAGE_SIZE = 25
