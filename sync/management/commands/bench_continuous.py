import random
import statistics
import time

from django.core.management.base import BaseCommand, CommandError

from audit.services import Actor
from contactcenter import services as cc
from contactcenter.models import Tag
from sync.models import Frequency, SyncConfiguration
from sync.services import sync_settings_save
from tenants.models import Tenant


class Command(BaseCommand):
    help = ("Against a running bcp (make run: web, worker and beat): switches TENANT's sync to continuous, saves a "
            "change through the services N times, one at a time, and prints how many seconds each took to reach the "
            "BCP tenant, with their median and 95th percentile.")

    def add_arguments(self, parser):
        parser.add_argument("tenant", nargs="?", default="Classics Inc.")
        parser.add_argument("--changes", type=int, default=20)
        parser.add_argument("--gap", type=float, default=2.0,
                            help="seconds between one change reaching the BCP tenant and the next change, on average "
                                 "(each gap is drawn between half and one and a half times this)")
        parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one change")

    def handle(self, *args, tenant, changes, timeout, gap, **options):
        primary = Tenant.objects.filter(name__iexact=tenant).first()
        configuration = SyncConfiguration.objects.filter(mapping__primary=primary, enabled=True).first()
        if configuration is None:
            raise CommandError(f"“{tenant}” has no enabled sync. Enable it on Admin → Sync Configuration first.")
        previous = configuration.frequency
        sync_settings_save(configuration=configuration, frequency=Frequency.CONTINUOUS, custom=configuration.custom,
                           entity_types=configuration.entity_types, actor=Actor.system())
        tag = Tag.objects.filter(tenant=primary).order_by("pk").first() or cc.tag_create(
            tenant=primary, name="Latency probe", actor=Actor.system())
        secondary_id = configuration.mapping.secondary_id
        seconds = []
        try:
            for n in range(changes):
                marker = f"latency probe {time.time():.6f}"
                started = time.monotonic()
                cc.tag_update(tag=tag, name=tag.name, description=marker, actor=Actor.system())
                while not Tag.objects.filter(tenant_id=secondary_id, name=tag.name, description=marker).exists():
                    if time.monotonic() - started > timeout:
                        raise CommandError(f"change {n + 1} did not reach the BCP tenant within {timeout:.0f} s: "
                                           "are the worker and beat running (make run)?")
                    time.sleep(0.2)
                seconds.append(time.monotonic() - started)
                self.stdout.write(f"change {n + 1}: {seconds[-1]:.2f} s")
                time.sleep(random.uniform(gap / 2, gap * 1.5))  # noqa: S311 - spacing, not security
        finally:
            configuration.refresh_from_db()
            sync_settings_save(configuration=configuration, frequency=previous, custom=configuration.custom,
                               entity_types=configuration.entity_types, actor=Actor.system())
        p95 = statistics.quantiles(seconds, n=20, method="inclusive")[18] if len(seconds) > 1 else seconds[0]
        self.stdout.write(f"from a saved change to its copy on the BCP tenant: median {statistics.median(seconds):.2f} "
                          "s, "
                          f"95th percentile {p95:.2f} s, max {max(seconds):.2f} s ({len(seconds)} changes; "
                          "target: median ≤ 3 s, 95th percentile ≤ 6 s)")
