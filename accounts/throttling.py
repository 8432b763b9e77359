"""How django-axes names the account a failed sign-in was aimed at."""


def axes_username(request, credentials=None) -> str:
    """Usernames match case-insensitively, so the failure counter must too: otherwise "Andy", "ANDY", ...
    would each get their own allowance of attempts."""
    if credentials and credentials.get("username") is not None:
        raw = credentials["username"]
    else:
        raw = getattr(request, "POST", {}).get("username", "")
    return str(raw).strip().lower()
