"""The rehearsal's task: services.rehearse enqueues it once its transaction commits; it waits for the rehearsal's
sync run and completes the drill."""

from celery import shared_task

from bcp_project import regions

from .rehearsal_completion import REHEARSAL_POLL_SECONDS, rehearsal_complete


# No retry limit here: rehearsal_complete stops waiting by itself after REHEARSAL_TIMEOUT.
@shared_task(name="continuity.rehearsal_complete", bind=True, ignore_result=True, max_retries=None)
def complete_rehearsal(self, drill_id: int, region: str | None = None) -> None:
    if region is None:  # a message queued before regions were separate databases
        from ..models import Drill

        region = next((alias for alias in regions.aliases()
                       if Drill.objects.using(alias).filter(pk=drill_id).exists()), None)
        if region is None:
            return
    if not rehearsal_complete(drill_id=drill_id, region=region):
        raise self.retry(countdown=REHEARSAL_POLL_SECONDS)
