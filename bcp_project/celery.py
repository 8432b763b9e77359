import gc
import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready
from kombu import transport
from kombu.exceptions import OperationalError

# What sending a task raises when the broker does not answer (refused, timed out, gone): the caller decides what
# the person is told, never a 500.
BROKER_ERRORS = (OperationalError, OSError)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bcp_project.settings")

# "filesystem://" (the demo's broker without Redis) names kombu's filesystem transport with one fix: a message is
# written whole before a worker can see it (bcp_project/broker.py). Every process that sends or receives a task
# imports this module first, so producer and worker agree.
transport.TRANSPORT_ALIASES["filesystem"] = "bcp_project.broker:Transport"

app = Celery("bcp_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender, **kwargs):
    # The filesystem transport expects its folders to exist before the first message.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@worker_ready.connect
def _freeze_start_up_objects(sender=None, **kwargs):
    """Once the worker has imported everything, the objects it holds for its whole life (modules, models, URL
    patterns: some hundred thousand) are moved out of the collector's reach. A full collection then scans only what
    tasks made: measured in a process like the worker's, 20 to 60 ms of every third sync run were the collector
    walking those objects again."""
    gc.collect()
    gc.freeze()
