from celery import shared_task

from .regions.health import probe_all
from .services import heartbeat_record


@shared_task(name="bcp_project.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    heartbeat_record(name="celery")


@shared_task(name="bcp_project.tasks.region_probe", ignore_result=True)
def region_probe() -> None:
    """Marks each region answering or down (bcp_project.regions.health)."""
    probe_all()
