"""Test overrides: same settings, fast hashing, no TLS redirects for the test servers."""

import os

# Set, not defaulted: the tests (and every process they start, which inherits this environment) must never
# read a developer's .env. pytest, `make test` and CI all come through this module.
os.environ["READ_ENV_FILE"] = "false"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-django-checks-0123456789")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "en"
SYNC_FAILPOINTS = True  # sync.engine.failpoints: tests may stop a run at a named point
# The routing cache is shared by every test run on one Redis, and test databases reuse ids: keys of our own.
CACHES["routing"]["KEY_PREFIX"] = "bcp-test-" + __import__("secrets").token_hex(6)  # noqa: F405
# Which regions are down: this process's own, so that no test sees another run's drill.
CACHES["regions"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "regions"}  # noqa: F405
# SQLite test databases live in memory, one per alias. Said outright: the regions' engine is our own wrapper of
# Django's SQLite backend (bcp_project.regions.backends), which pytest-django's xdist support does not recognise
# as SQLite and would otherwise give a file name built from the real database's path.
for _config in DATABASES.values():  # noqa: F405
    if _config["ENGINE"].endswith("sqlite3"):
        _config.setdefault("TEST", {})["NAME"] = ":memory:"
