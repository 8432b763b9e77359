"""What every page says of the pair (banners.html, the sign-in page): the notice of a switch after sign-in, and the
pair's message. Plugged in through settings. Lazy: a page that does not show them (an htmx partial) reads nothing,
and the notice leaves the session only when a page shows it."""

from functools import cached_property

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
    def mapping_id(self) -> int | None:
        """The pair the browser belongs to: the signed-in user's, or the one whose switch signed it out."""
        session = self._session()
        if session is None:
            return None
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
