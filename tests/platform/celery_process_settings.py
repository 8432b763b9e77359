"""Settings for the Celery worker and beat processes that test_beat.py starts: the test settings, with
a broker folder (filesystem transport), a queue and a beat interval of the test's own, so that a
`make run` of the same checkout can neither take the test's messages nor send it any."""

import os

from bcp_project.settings_test import *  # noqa: F403
from bcp_project.settings_test import CELERY_BEAT_SCHEDULE, CELERY_BROKER_TRANSPORT_OPTIONS, REDIS_URL

if not REDIS_URL:
    _folder = os.environ["BCP_TEST_BROKER_DIR"]
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": _folder,
        "data_folder_out": _folder,
        "processed_folder": os.path.join(_folder, "processed"),
        "control_folder": os.path.join(_folder, "control"),
    }
CELERY_TASK_DEFAULT_QUEUE = os.environ["BCP_TEST_QUEUE"]
# The real entry, only sooner: test_health.py pins the real interval.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {**CELERY_BEAT_SCHEDULE["heartbeat"], "schedule": float(os.environ["BCP_TEST_BEAT_SECONDS"])},
}
# A run's progress is written at its first step, not after a second: test_worker.py kills a run sooner than that
# and reads what its own connection wrote.
SYNC_PROGRESS_EVERY = 0
