"""How django-axes names the account a failed sign-in was aimed at."""

import hashlib

from .models import username_key

# django-axes keeps the name in a column of 255 characters; PostgreSQL refuses a longer value (SQLite does not).
_AXES_USERNAME_LENGTH = 255
_DIGEST_LENGTH = 64


def axes_username(request, credentials=None) -> str:
    """Usernames match as sign-in compares them (NFKC, case-folded), so the failure counter must too: otherwise
    "Andy", "ANDY", "Ａｎｄｙ" ... would each get their own allowance of attempts. A name too long for the
    throttle's table (no account has one, but anyone may type one) is counted under its beginning and a digest of
    the whole: still one counter per name."""
    if credentials and credentials.get("username") is not None:
        raw = credentials["username"]
    else:
        raw = getattr(request, "POST", {}).get("username", "")
    name = username_key(str(raw).strip())
    if len(name) <= _AXES_USERNAME_LENGTH:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{name[:_AXES_USERNAME_LENGTH - _DIGEST_LENGTH - 1]}#{digest}"
