"""Settings of the app's processes in the region-loss tests (tests/regions/deployment.py): production's own (DEBUG
off, the manifest storage, the real password hasher), with the collected static files in the test's folder and,
on a Redis shared with other runs, cache keys of the deployment's own."""

import os
from pathlib import Path

from bcp_project.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BCP_TEST_STATIC_ROOT"])

_prefix = os.environ.get("BCP_TEST_CACHE_PREFIX", "")
if _prefix and REDIS_URL:  # noqa: F405
    CACHES["routing"]["KEY_PREFIX"] = f"{_prefix}-routing"  # noqa: F405
    CACHES["regions"]["KEY_PREFIX"] = f"{_prefix}-regions"  # noqa: F405
