"""The outage banner (includes/banners.html) for everyone in a tenant whose region's database is marked not
answering, or that a representative put in an outage. Plugged in through settings. Lazy and cheap: the region's
marker is the memoised health read every query makes anyway (health.is_down), the status is the one the outage
middleware already read; only while the region is down does it read more (since when, and whether there is a
BCP tenant)."""

from functools import cached_property

from bcp_project.permissions import CHANGE_BCP_ENABLEMENT
from bcp_project.regions import RegionUnknown, alias_for_tenant, health, region_label
from tenants.bcp.selectors import mapping_for_tenant

from .middleware import bc_enablement_url


class OutageNews:
    def __init__(self, request):
        self.request = request

    @cached_property
    def _nav(self):
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return getattr(self.request, "nav", None)

    @cached_property
    def region_down(self) -> dict | None:
        """{"region", "since", "has_pair", "bcp_tenant" (None unless the tenant is a pair's primary), "can_switch",
        "url"} while the region where the person's tenant is kept is marked down."""
        nav = self._nav
        tenant = nav.tenant if nav is not None else None
        if tenant is None:
            return None
        try:
            alias = alias_for_tenant(tenant)
        except RegionUnknown:
            return None
        if not health.is_down(alias):
            return None
        mapping = mapping_for_tenant(tenant=tenant)
        return {"region": region_label(alias), "since": health.state(alias).down_since, "has_pair": mapping is not None,
                "bcp_tenant": mapping.secondary if mapping is not None and mapping.primary_id == tenant.pk else None,
                "can_switch": nav.has(CHANGE_BCP_ENABLEMENT), "url": bc_enablement_url()}

    @cached_property
    def status(self):
        """The outage a representative set for the tenant or its region, when this page does not say it already
        (the plan's pages have their own note, and the outage page is the rest)."""
        status = getattr(self.request, "platform_status", None)
        if status is None or not status.is_outage or getattr(self.request, "outage_page", False) or \
                getattr(self.request, "platform_outage", None) is not None:
            return None
        return status


def outage_news(request):
    return {"outage_news": OutageNews(request)}
