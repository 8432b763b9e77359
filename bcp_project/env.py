"""Strict reading of the environment: a value we cannot understand is an error, never a guess."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

env = environ.Env()


def read_env_file(path: Path) -> None:
    """Adds the KEY=value lines of `path`, when it exists, to the environment. A variable that is already set
    keeps its value: the real environment always wins over the file."""
    if path.is_file():
        environ.Env.read_env(path, overwrite=False)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_str(name: str, default: str | None = None) -> str:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set.")
        return default
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: list[str]) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().upper()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {raw!r}.")
    return value


def env_url(name: str, default: str, schemes: list[str], example: str) -> str:
    """A URL whose scheme we support. The error names only the scheme: the rest may hold a password."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    raw = raw.strip()
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in schemes:
        found = f"it starts with {scheme}://" if scheme else "it is not a URL"
        raise ImproperlyConfigured(
            f"{name} must be a {' or '.join(s + '://' for s in schemes)} URL such as {example}; {found}."
        )
    return raw


REGION_CODE = r"^[a-z][a-z0-9-]{0,19}$"


def env_region_urls(name: str, schemes: list[str], example: str) -> dict[str, str]:
    """`na=postgres://…,eu=postgres://…`: each region's code and its database URL, in the order given. Empty when
    unset. A pair we cannot read is an error that names the pair's position and region, never its URL (it may
    hold a password)."""
    import re

    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    urls: dict[str, str] = {}
    for position, item in enumerate(raw.split(","), start=1):
        code, sep, url = item.strip().partition("=")
        code, url = code.strip(), url.strip()
        if not sep or not url:
            raise ImproperlyConfigured(
                f"{name} must list each region as code=URL, separated by commas, such as {example}; "
                f"entry {position} has no '='."
            )
        if not re.match(REGION_CODE, code) or code == "default":
            raise ImproperlyConfigured(
                f"{name}: entry {position} names the region {code!r}; a region code is lower-case letters, "
                "digits and hyphens (as in Tenant Management), such as na or eu."
            )
        if code in urls:
            raise ImproperlyConfigured(f"{name} names the region {code!r} twice.")
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in schemes:
            raise ImproperlyConfigured(
                f"{name}: the URL of region {code!r} must be a {' or '.join(s + '://' for s in schemes)} URL "
                f"such as {example}."
            )
        urls[code] = url
    return urls
