"""Test hooks: named points where a test stops a run as if its worker had been killed there."""

import os

from django.conf import settings


class SyncCrash(Exception):
    """Raised by a failpoint in tests: the run stops there as if its worker had been killed."""


def failpoint(name: str) -> None:
    """With settings.SYNC_FAILPOINTS on, BCP_SYNC_FAILPOINT=<name> kills the process there (os._exit, as a killed
    worker) and BCP_SYNC_RAISE_AT=<name> raises SyncCrash."""
    if not getattr(settings, "SYNC_FAILPOINTS", False):
        return
    if os.environ.get("BCP_SYNC_FAILPOINT") == name:
        os._exit(137)
    if os.environ.get("BCP_SYNC_RAISE_AT") == name:
        raise SyncCrash(name)
