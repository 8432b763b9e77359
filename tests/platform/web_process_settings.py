"""Settings for the gunicorn process that test_web_server.py starts: production's own (DEBUG off, the
manifest storage), with the collected static files in the test's folder instead of the checkout's."""

import os
from pathlib import Path

from bcp_project.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BCP_TEST_STATIC_ROOT"])
