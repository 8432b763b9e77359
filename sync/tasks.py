from celery import shared_task

from .services import sync_continuous_start, sync_dispatch, sync_poll_changes, sync_run_execute, sync_run_next


@shared_task(name="sync.dispatch", ignore_result=True)
def dispatch_sync() -> None:
    sync_dispatch()


# acks_late: a worker killed in the middle gives the message back; claiming the run decides who does it. The run
# lives in the backup's region, which the message names; it is routed to that region's queue (services.route_task).
@shared_task(name="sync.run", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_sync(run_id: int, region: str | None = None) -> None:
    sync_run_execute(run_id=run_id, region=region)


# Continuous mode: sent when a pair's first change commits (and again until its changes have settled); it runs the
# sync itself, in the backup's region's queue, so a change costs no second trip through the broker.
@shared_task(name="sync.continuous", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_continuous(mapping_id: int, region: str) -> None:
    sync_continuous_start(mapping_id=mapping_id, region=region)


# The dispatcher's chains: each runs the oldest queued run of the backup's region and sends itself on while more wait.
@shared_task(name="sync.next", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_next(region: str) -> None:
    sync_run_next(region=region)


# Continuous mode for the writes no signal sees (bulk updates, raw SQL): beat looks at the change logs every second.
@shared_task(name="sync.changes", ignore_result=True)
def poll_changes() -> None:
    sync_poll_changes()
