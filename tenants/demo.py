"""Demo data for Tenant Management: regions, the Classics Inc. pair and a few more tenants."""

from audit.services import Actor

from .models import Region, Tenant
from .services import tenant_create

REGIONS = [("North America", "na"), ("Europe", "eu"), ("Asia Pacific", "apac")]
TENANTS = [
    ("Classics Inc.", "na"),
    ("Classics Inc. BCP", "eu"),
    ("Northwind Support", "na"),
    ("Contoso Care", "eu"),
    ("Tailspin Travel", "apac"),
]


def seed() -> dict[str, Tenant]:
    regions = {}
    for name, code in REGIONS:
        regions[code], _ = Region.objects.get_or_create(code=code, defaults={"name": name})
    tenants = {}
    for name, code in TENANTS:
        tenant = Tenant.objects.filter(name__iexact=name).first()
        tenants[name] = tenant or tenant_create(name=name, region=regions[code], actor=Actor.system())
    return tenants
