"""`make bench`: how long the tenants list takes at 10,000 tenants, in a throw-away test database."""

import statistics
import time
import warnings

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment, teardown_test_environment


class Command(BaseCommand):
    help = "Time the TM tenants list with many tenants: median of repeated requests in one process."

    def add_arguments(self, parser):
        parser.add_argument("--tenants", type=int, default=10_000, help="Tenants to create (default: %(default)s).")
        parser.add_argument("--requests", type=int, default=30,
                            help="Timed requests per page (default: %(default)s).")

    def handle(self, *args, tenants, requests, **options):
        # The bench serves no static files; whitenoise's note about a missing STATIC_ROOT is noise here.
        warnings.filterwarnings("ignore", message="No directory at")
        setup_test_environment()
        old_name = connection.settings_dict["NAME"]
        # A separate database (bench_<name>, or in memory for SQLite): the bench never touches real data,
        # nor the test_<name> database of a test run going on at the same time.
        if connection.vendor != "sqlite":
            connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{old_name}"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            client = self._prepare(tenants)
            pages = {
                "first page": ("/tm/tenants/", {}),
                "middle page": ("/tm/tenants/", {"page": max(1, tenants // 50)}),
                "name search": ("/tm/tenants/", {"q": "tenant 0042"}),
                "region filter (htmx)": ("/tm/tenants/", {"region": "eu", "page": 2}),
            }
            self.stdout.write(f"Tenants list at {tenants:,} tenants, {requests} requests each "
                              f"({connection.vendor}):")
            for label, (url, params) in pages.items():
                headers = {"HX-Request": "true"} if "htmx" in label else {}
                median, worst = self._time(client, url, params, headers, requests)
                self.stdout.write(f"  {label:<22} median {median:7.1f} ms   slowest {worst:7.1f} ms")
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            teardown_test_environment()

    def _prepare(self, count: int) -> Client:
        from django.contrib.auth.models import Permission

        from accounts.models import User
        from tenants.models import Region, Tenant

        regions = [Region.objects.create(name=name, code=code)
                   for name, code in [("North America", "na"), ("Europe", "eu"), ("Asia Pacific", "apac")]]
        Tenant.objects.bulk_create(
            (Tenant(name=f"Tenant {n:05d}", region=regions[n % len(regions)]) for n in range(count)),
            batch_size=2000,
        )
        rep = User.objects.create(username="bench-rep")
        rep.user_permissions.add(Permission.objects.get(codename="tm_admin", content_type__app_label="tenants"))
        client = Client()
        client.force_login(rep)
        return client

    def _time(self, client, url, params, headers, requests) -> tuple[float, float]:
        for _ in range(3):  # warm caches and connections
            assert client.get(url, params, headers=headers).status_code == 200
        timings = []
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get(url, params, headers=headers)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        return statistics.median(timings), max(timings)
