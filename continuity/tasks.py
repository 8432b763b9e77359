"""Continuity's Celery tasks: the daily job that beat starts every morning, and the rehearsal's task (it lives with
the drills, whose service enqueues it, and is imported here so that Celery's autodiscovery registers it)."""

import logging
from datetime import datetime

from celery import shared_task

from .drills.rehearsal_completion import rehearsals_overdue_complete
from .drills.services import switch_drills_catch_up
from .drills.tasks import complete_rehearsal
from .reminders import reminders_send

__all__ = ["complete_rehearsal", "continuity_daily", "daily"]

logger = logging.getLogger(__name__)


def continuity_daily(*, now: datetime | None = None) -> None:
    """What the daily beat task does: switches and reverts the signal missed become drills, rehearsals whose task
    was lost are completed, and the reminders go out."""
    for step in (switch_drills_catch_up, lambda: rehearsals_overdue_complete(now=now),
                 lambda: reminders_send(now=now)):
        try:
            step()
        except Exception:  # noqa: BLE001 - each step stands alone; the next day's run tries again
            logger.exception("continuity daily step failed")


@shared_task(name="continuity.daily", ignore_result=True)
def daily() -> None:
    continuity_daily()
