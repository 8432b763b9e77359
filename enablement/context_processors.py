"""What every page says of the pair (banners.html, the sign-in page): the notice of a switch after sign-in, and the
pair's message. Plugged in through settings. Lazy: a page that does not show them (an htmx partial) reads nothing,
and the notice leaves the session only when a page shows it.

A representative supporting a tenant of a pair (Impersonate & Support) sees the pair as its users do: the pair's
message, and on the BCP tenant that it is the backup system."""

from functools import cached_property

from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping

from . import notices
from .routing import ROUTE_KEY


class PairNews:
    def __init__(self, request):
        self.request = request

    def _session(self):
        return getattr(self.request, "session", None)

    @cached_property
    def signed_out(self) -> dict | None:
        """For a browser the pair's switch signed out: {"mapping", "tenant" (where people land now), "side"}."""
        session = self._session()
        user = getattr(self.request, "user", None)
        if session is None or (user is not None and user.is_authenticated):
            return None
        return session.get(notices.SIGNED_OUT_KEY)

    @cached_property
    def supported_pair(self) -> BcpMapping | None:
        """The pair of the tenant a representative supports (Impersonate & Support), with both tenants; None when
        they support none, or one without a pair. One query, on a page that shows the banners."""
        impersonation = getattr(self.request, "impersonation", None)
        if impersonation is None:
            return None
        return mapping_for_tenant(tenant=impersonation.tenant)

    @cached_property
    def supported_bcp(self) -> BcpMapping | None:
        """The pair, when the tenant a representative supports is its BCP tenant (banners.html says so)."""
        pair = self.supported_pair
        impersonation = getattr(self.request, "impersonation", None)
        return pair if pair is not None and pair.secondary_id == impersonation.tenant.pk else None

    @cached_property
    def mapping_id(self) -> int | None:
        """The pair the browser belongs to: the signed-in user's (or the one of the tenant a representative
        supports), or the one whose switch signed it out."""
        session = self._session()
        if session is None:
            return None
        if getattr(self.request, "impersonation", None) is not None:
            return self.supported_pair.pk if self.supported_pair is not None else None
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            route = session.get(ROUTE_KEY) if user.tenant_id is not None else None
            return route[0] if route else None
        return self.signed_out["mapping"] if self.signed_out else None

    @cached_property
    def message(self) -> dict:
        return notices.pair_message_get(mapping_id=self.mapping_id) if self.mapping_id is not None else {}

    @cached_property
    def notice(self) -> dict | None:
        session = self._session()
        user = getattr(self.request, "user", None)
        if session is None or user is None or not user.is_authenticated:
            return None
        return notices.switch_notice_pop(session)


def pair_news(request):
    return {"pair_news": PairNews(request)}
