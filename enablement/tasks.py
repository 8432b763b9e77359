"""BC Enablement's Celery tasks: the email to everyone of a pair after a switch (enablement.notices), and beat's
dispatcher that sends it again when the task queue did not answer at the switch, or a worker died mid-way."""

import logging

from celery import shared_task

from bcp_project.celery import BROKER_ERRORS

from .notices import switch_mail_everyone as mail_everyone
from .notices import switches_to_mail

logger = logging.getLogger(__name__)


# No retry of its own: a mail server that took no email gives the claim back, and the dispatcher below sends the
# task again after notices.MAIL_LEASE (every 5 minutes, for a day after the switch).
@shared_task(name="enablement.switch_mail_everyone", ignore_result=True)
def switch_mail_everyone(switch_id: int) -> None:
    outcome = mail_everyone(switch_id=switch_id)
    logger.info("switch %s: %d emails to everyone sent, %d failed%s", switch_id, outcome.sent, outcome.failed,
                f" ({outcome.skipped})" if outcome.skipped else "")


@shared_task(name="enablement.switch_mail_dispatch", ignore_result=True)
def switch_mail_dispatch() -> list[int]:
    """Sends the email task again for each switch whose email has not gone (notices.switches_to_mail); claiming
    decides, so a task that was only slow makes no second email."""
    sent = []
    for switch_id in switches_to_mail():
        try:
            switch_mail_everyone.delay(switch_id)
        except BROKER_ERRORS as exc:
            logger.warning("switch %s: the email to everyone could not be queued again (%s: %s); the next dispatch "
                           "tries again", switch_id, type(exc).__name__, exc)
            break
        sent.append(switch_id)
    return sent
