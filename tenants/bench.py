"""`make bench` section for Tenant Management (see bcp_project/bench.py)."""

from django.test import Client
from django.urls import reverse

from bcp_project.bench import BenchOutput, account_representative

from .models import Region, Tenant

BENCH_REGIONS = [("North America", "na"), ("Europe", "eu"), ("Asia Pacific", "apac"), ("Latin America", "latam")]
BENCH_INDUSTRIES = ["Retail", "Logistics", "Insurance", "Travel", "Banking", "Health", "Energy", "Media"]


def tenants_list(out: BenchOutput) -> None:
    """TM tenants list at many tenants: first page, a search, a region filter and a page far away."""
    count = out.options["tenants"]
    regions = [Region.objects.get_or_create(code=code, defaults={"name": name})[0] for name, code in BENCH_REGIONS]
    # Rows straight into the table: the tenant_create service (roles, audit) costs far too much for
    # thousands, and the list shows none of what it adds.
    Tenant.objects.bulk_create(
        [
            Tenant(name=f"{BENCH_INDUSTRIES[i % len(BENCH_INDUSTRIES)]} Contact Center {i:05d}",
                   region=regions[i % len(regions)],
                   status=Tenant.Status.INACTIVE if i % 10 == 0 else Tenant.Status.ACTIVE)
            for i in range(count)
        ],
        batch_size=1000,
    )
    out.title = f"TM tenants list, {count:,} tenants"

    client = Client()
    client.force_login(account_representative())
    url = reverse("tenants:list")
    out.measure(client, "first page", url)
    out.measure(client, "search by name", f"{url}?q=insurance")
    out.measure(client, "filter by region", f"{url}?region=eu")
    out.measure(client, "page 200", f"{url}?page=200")
    out.measure(client, "region filter, page 2 (htmx)", f"{url}?region=eu&page=2", htmx=True)
