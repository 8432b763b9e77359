"""Who of the primary has no account on the BCP tenant: no correlation of theirs, or one whose copy is gone (the
person was made after the last sync, or their copy was deleted there). Read in three queries whatever the number
of people: the people's ids and the copies' ids in the control plane, the correlations in the backup's region."""

from accounts.models import Role, User
from bcp_project.regions import alias_for_tenant
from sync.models import Correlation
from tenants.models import BcpMapping

USER = User.ENTITY_TYPE


def people_count(*, mapping: BcpMapping) -> int:
    return User.objects.filter(tenant_id=mapping.primary_id, is_bcp_copy=False).count()


def missing_ids(*, mapping: BcpMapping) -> list[int]:
    """The ids of the primary's people without an account on the BCP tenant. Raises RegionUnavailable when the
    backup's region (where the correlations are) does not answer."""
    people = User.objects.filter(tenant_id=mapping.primary_id, is_bcp_copy=False).values_list("pk", flat=True)
    links = dict(Correlation.objects.filter(mapping=mapping, entity_type=USER).values_list("source_id", "target_id")
                 .iterator(chunk_size=5000))
    copies = set(User.objects.filter(tenant_id=mapping.secondary_id, is_bcp_copy=True).values_list("pk", flat=True)
                 .iterator(chunk_size=5000))
    return [pk for pk in people.iterator(chunk_size=5000) if links.get(pk) not in copies]


def missing_people(*, mapping: BcpMapping, ids: list[int] | None = None) -> list[User]:
    """The primary's people without an account on the BCP tenant, by username, with their role; only those of
    `ids` when given (what a person chose: those who have an account since are left out)."""
    wanted = set(missing_ids(mapping=mapping))
    if ids is not None:
        wanted &= set(ids)
    return list(User.objects.filter(pk__in=wanted).select_related("role").order_by("username_key"))


def all_of_the_primary(*, mapping: BcpMapping, ids: list[int]) -> bool:
    """Whether every id names a person of the primary (not a copy, not someone of another tenant)."""
    wanted = set(ids)
    return User.objects.filter(pk__in=wanted, tenant_id=mapping.primary_id, is_bcp_copy=False).count() == len(wanted)


def bcp_roles_by_name(*, mapping: BcpMapping) -> dict[str, Role]:
    """The BCP tenant's roles, keyed by their name as the role constraint compares it (lower case)."""
    return {role.name.lower(): role for role in Role.objects.filter(tenant_id=mapping.secondary_id)}


def primary_alias(mapping: BcpMapping) -> str:
    return alias_for_tenant(mapping.primary_id)


def describe(person: User) -> str:
    """A person as the pages name them: full name, else username."""
    return person.display_name
