"""BC Enablement's Celery task: the email to everyone of a pair after a switch (enablement.notices)."""

import logging

from celery import shared_task

from .notices import switch_mail_everyone as mail_everyone

logger = logging.getLogger(__name__)

# A mail server that took no email at all is tried again this often, this many times (about an hour in all).
RETRY_SECONDS = 300
RETRIES = 12


@shared_task(bind=True, name="enablement.switch_mail_everyone", ignore_result=True, max_retries=RETRIES)
def switch_mail_everyone(self, switch_id: int) -> None:
    outcome = mail_everyone(switch_id=switch_id)
    logger.info("switch %s: %d emails to everyone sent, %d failed%s", switch_id, outcome.sent, outcome.failed,
                f" ({outcome.skipped})" if outcome.skipped else "")
    if outcome.server_down:
        raise self.retry(countdown=RETRY_SECONDS)
