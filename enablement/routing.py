"""Which account a person signs in to: the one on the active tenant of their BCP pair."""

from accounts.models import User, username_key
from sync.models import Correlation
from tenants.models import BcpMapping


def person_for(username: str) -> User | None:
    """The person a username names on the platform (never one of the sync's copies)."""
    return (User.objects.select_related("tenant").filter(username_key=username_key(username), is_bcp_copy=False)
            .order_by("pk").first())


def account_on_active_tenant(person: User) -> User | None:
    """The person's own account while their tenant (or no pair) is active; their copy on the BCP tenant when
    that side is active; None when the active side has no copy of them (made after the last sync)."""
    if person.tenant_id is None:
        return person
    mapping = BcpMapping.objects.filter(primary_id=person.tenant_id).values("pk", "active_side").first()
    if mapping is None or mapping["active_side"] == BcpMapping.Side.PRIMARY:
        return person
    target_id = (Correlation.objects.filter(mapping_id=mapping["pk"], entity_type="user", source_id=person.pk)
                 .values_list("target_id", flat=True).first())
    if target_id is None:
        return None
    return User.objects.select_related("tenant").filter(pk=target_id, is_bcp_copy=True).first()


def active_tenant_name(person: User) -> str:
    mapping = BcpMapping.objects.select_related("primary", "secondary").filter(primary_id=person.tenant_id).first()
    if mapping is None:
        return person.tenant.name if person.tenant_id else ""
    return (mapping.secondary if mapping.active_side == BcpMapping.Side.SECONDARY else mapping.primary).name
