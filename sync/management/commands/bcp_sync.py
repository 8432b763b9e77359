import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from audit.services import Actor
from sync.engine.registry import BY_KEY
from sync.messages import error_text, skip_text
from sync.models import SyncRun
from sync.services import SyncError, sync_run_execute, sync_run_request
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Syncs one primary tenant (name or ID) to its BCP tenant now, in the foreground, and prints the summary."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="the primary tenant's name or ID")
        parser.add_argument("--full", action="store_true",
                            help="rewrite every record on the BCP tenant, also those that look unchanged")

    def handle(self, *args, tenant, full, **options):
        primary = _tenant(tenant)
        try:
            run = sync_run_request(tenant=primary, actor=Actor.system(), trigger=SyncRun.Trigger.COMMAND, full=full,
                                   enqueue=False)
        except SyncError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(f"Syncing {primary} → {run.mapping.secondary} (run {run.pk}) ...")
        region = run._state.db
        run = sync_run_execute(run_id=run.pk, region=region) or SyncRun.objects.using(region).get(pk=run.pk)
        self.stdout.write(f"{'type':<20}{'created':>9}{'updated':>9}{'deleted':>9}{'unchanged':>11}{'failed':>8}")
        for key, counts in run.counts.items():
            label = str(BY_KEY[key].label) if key in BY_KEY else key
            c = {name: counts.get(name, 0) for name in ("created", "updated", "deleted", "unchanged", "failed")}
            self.stdout.write(f"{label:<20}{c['created']:>9}{c['updated']:>9}{c['deleted']:>9}{c['unchanged']:>11}"
                              f"{c['failed']:>8}")
        seconds = run.duration.total_seconds() if run.duration else 0
        self.stdout.write(f"Status: {run.get_status_display()} in {seconds:.2f} s")
        if run.skip_reason:
            self.stdout.write(skip_text(run.skip_reason))
        for error in run.errors:
            self.stderr.write(error_text(error))
        if run.status == SyncRun.Status.FAILED:
            raise CommandError("The sync did not copy everything; see the messages above.")


def _tenant(value: str) -> Tenant:
    query = Q(name__iexact=value.strip())
    try:
        query |= Q(pk=uuid.UUID(value.strip()))
    except ValueError:
        pass
    found = list(Tenant.objects.filter(query)[:2])
    if not found:
        raise CommandError(f"No tenant is named or has the ID “{value}”. The TM tenants list shows both.")
    return found[0]
