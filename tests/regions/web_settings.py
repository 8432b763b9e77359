"""Settings of the app's processes in the region-loss tests (tests/regions/deployment.py): production's own (DEBUG
off, the manifest storage, the real password hasher), with the collected static files in the test's folder."""

import os
from pathlib import Path

from bcp_project.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BCP_TEST_STATIC_ROOT"])
