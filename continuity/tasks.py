import logging

from celery import shared_task

from .drills import REHEARSAL_POLL_SECONDS, rehearsal_complete
from .reminders import continuity_daily

logger = logging.getLogger(__name__)


# No retry limit here: rehearsal_complete stops waiting by itself after REHEARSAL_TIMEOUT.
@shared_task(name="continuity.rehearsal_complete", bind=True, ignore_result=True, max_retries=None)
def complete_rehearsal(self, drill_id: int) -> None:
    if not rehearsal_complete(drill_id=drill_id):
        raise self.retry(countdown=REHEARSAL_POLL_SECONDS)


@shared_task(name="continuity.daily", ignore_result=True)
def daily() -> None:
    continuity_daily()
