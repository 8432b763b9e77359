"""Routing: which tenant of a BCP pair people are sent to, and when they must sign in again. The one home of

- the routing epoch cache: every switch increments the pair's epoch and writes it here when it commits; every
  signed-in request reads it (Redis in production, one query without a cache);
- the route a session remembers: the pair, epoch and side it signed in under, written at sign-in and compared
  on each request, so that after a switch every session of the pair signs in again in O(1);
- the account a sign-in resolves to: the person a username names, then their account on the active tenant.

The authentication backend (backends.py) and the middleware (middleware.py) are thin adapters over this module;
services.tenant_switch calls epoch_cache_set."""

import logging
import time
from dataclasses import dataclass

from django.core.cache import caches

from accounts.models import User, username_key
from sync.models import Correlation
from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping, BcpMembership

logger = logging.getLogger(__name__)

# --- the routing epoch cache ------------------------------------------------------------------------------

EPOCH_CACHE = "routing"
# A switch writes the new epoch to the cache when it commits; the timeout only bounds how long a cache that
# missed that write (Redis restarted in between) could keep the old one.
EPOCH_CACHE_SECONDS = 60


def _epoch_key(mapping_id: int) -> str:
    return f"bcp:routing-epoch:{mapping_id}"


def epoch_cache_set(*, mapping_id: int, epoch: int) -> None:
    """Keep the pair's epoch in the cache (a switch calls it on commit)."""
    try:
        caches[EPOCH_CACHE].set(_epoch_key(mapping_id), epoch, timeout=EPOCH_CACHE_SECONDS)
    except Exception:  # noqa: BLE001 - without the cache, routing asks the database
        logger.warning("routing cache unavailable", exc_info=True)


def routing_epoch(*, mapping_id: int) -> int | None:
    """The pair's routing epoch: from the cache when there is one (Redis in production), else one query."""
    try:
        epoch = caches[EPOCH_CACHE].get(_epoch_key(mapping_id))
    except Exception:  # noqa: BLE001 - a cache that is down must not take sign-ins with it
        logger.warning("routing cache unavailable", exc_info=True)
        epoch = None
    if epoch is None:
        epoch = BcpMapping.objects.filter(pk=mapping_id).values_list("routing_epoch", flat=True).first()
        if epoch is not None:
            epoch_cache_set(mapping_id=mapping_id, epoch=epoch)
    return epoch


# --- the route a session remembers --------------------------------------------------------------------------

ROUTE_KEY = "bcp_route"  # [mapping id, routing epoch, side] of the signed-in user's own tenant
SIDE_KEY = "bcp_side"  # "secondary" on a BCP tenant: every page says it is the backup system (banners.html)
IMPERSONATION_ROUTE_KEY = "bcp_impersonation_route"  # [tenant id, mapping id, routing epoch]
# A session of a tenant without a pair looks again this often, in case the tenant has been mapped since.
UNPAIRED_RECHECK_SECONDS = 60


def route_of(tenant_id) -> list | None:
    """[mapping id, routing epoch, side of this tenant] of the tenant's pair, or None."""
    row = (BcpMembership.objects.filter(tenant_id=tenant_id)
           .values_list("mapping_id", "mapping__routing_epoch", "side").first())
    return list(row) if row else None


def session_remember(session, *, tenant_id) -> list:
    """Write the route of the tenant's pair (or, without a pair, when it was looked at) into the session."""
    route = route_of(tenant_id) or [None, int(time.time()), None]
    session[ROUTE_KEY] = route
    session[SIDE_KEY] = route[2]
    return route


def session_is_current(session, *, tenant_id) -> bool:
    """False when the session's pair has switched since it signed in: it must sign in again. A session that
    signed in before routing, or whose tenant had no pair a while ago, has its route (re)written instead."""
    route = session.get(ROUTE_KEY)
    if route is None or (route[0] is None and time.time() - route[1] > UNPAIRED_RECHECK_SECONDS):
        session_remember(session, tenant_id=tenant_id)
        return True
    return route[0] is None or routing_epoch(mapping_id=route[0]) == route[1]


def impersonation_is_current(session, *, tenant) -> bool:
    """False when the tenant a representative supports has become the inactive side of its pair since the
    support session started (or was last looked at): the support session must end. Forgets the route then."""
    tenant_id = str(tenant.pk)
    seen = session.get(IMPERSONATION_ROUTE_KEY)
    if not seen or seen[0] != tenant_id:
        route = route_of(tenant.pk)
        session[IMPERSONATION_ROUTE_KEY] = [tenant_id, *route[:2]] if route else [tenant_id, None, None]
        return True
    _tenant, mapping_id, epoch = seen
    if mapping_id is None or routing_epoch(mapping_id=mapping_id) == epoch:
        return True
    mapping = BcpMapping.objects.filter(pk=mapping_id).first()
    if mapping is None or mapping.active_tenant_id == tenant.pk:
        session[IMPERSONATION_ROUTE_KEY] = [tenant_id, mapping_id, mapping.routing_epoch if mapping else None]
        return True
    session.pop(IMPERSONATION_ROUTE_KEY, None)
    return False


# --- the account a sign-in resolves to ------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInRoute:
    """Where a username leads: the person it names, the account to check the password of (None when the active
    tenant has no copy of them yet), and the name of the tenant that is active for them."""

    person: User | None
    account: User | None

    @property
    def active_tenant_name(self) -> str:
        return active_tenant_name(self.person) if self.person is not None else ""


def person_for(username: str) -> User | None:
    """The person a username names on the platform (never one of the sync's copies)."""
    return (User.objects.select_related("tenant").filter(username_key=username_key(username), is_bcp_copy=False)
            .order_by("pk").first())


def account_on_active_tenant(person: User) -> User | None:
    """The person's own account while their tenant (or no pair) is active; their copy on the BCP tenant when
    that side is active; None when the active side has no copy of them (made after the last sync)."""
    if person.tenant_id is None:
        return person
    mapping = (BcpMapping.objects.of_tenant(person.tenant_id, side=BcpMapping.Side.PRIMARY)
               .values("pk", "active_side").first())
    if mapping is None or mapping["active_side"] == BcpMapping.Side.PRIMARY:
        return person
    target_id = (Correlation.objects.filter(mapping_id=mapping["pk"], entity_type="user", source_id=person.pk)
                 .values_list("target_id", flat=True).first())
    if target_id is None:
        return None
    return User.objects.select_related("tenant").filter(pk=target_id, is_bcp_copy=True).first()


def active_tenant_name(person: User) -> str:
    """The name of the tenant the person would land on now."""
    mapping = mapping_for_tenant(tenant=person.tenant_id, side=BcpMapping.Side.PRIMARY)
    if mapping is None:
        return person.tenant.name if person.tenant_id else ""
    return mapping.active_tenant.name


def sign_in_route(username: str) -> SignInRoute:
    """The person `username` names and the account on the active tenant of their pair."""
    person = person_for(username)
    return SignInRoute(person=person, account=account_on_active_tenant(person) if person is not None else None)
