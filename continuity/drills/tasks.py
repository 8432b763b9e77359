"""The rehearsal's task: services.rehearse enqueues it once its transaction commits; it waits for the rehearsal's
sync run and completes the drill."""

from celery import shared_task

from .rehearsal_completion import REHEARSAL_POLL_SECONDS, rehearsal_complete


# No retry limit here: rehearsal_complete stops waiting by itself after REHEARSAL_TIMEOUT.
@shared_task(name="continuity.rehearsal_complete", bind=True, ignore_result=True, max_retries=None)
def complete_rehearsal(self, drill_id: int) -> None:
    if not rehearsal_complete(drill_id=drill_id):
        raise self.retry(countdown=REHEARSAL_POLL_SECONDS)
