"""Writes for BCP set-up: validating and saving a mapping, the shared passkey, turning BCP off.

Nothing here keeps a passkey as text: it is generated, handed back once for the page to show, and
only its Django password hash is stored.
"""

import math
import secrets

from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL

from ..models import BcpMapping, BcpMembership, Region, Tenant
from .selectors import dr_tenant_resolve, mapping_for_tenant

# RFC 4648 base32: no 0/1/8/9, so nothing reads as O, I or B when someone types it from a note.
PASSKEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
PASSKEY_LENGTH = 28
PASSKEY_GROUP = 4
PASSKEY_BITS = PASSKEY_LENGTH * math.log2(len(PASSKEY_ALPHABET))  # 140 bits
assert PASSKEY_BITS >= 128


class BcpError(ApplicationError):
    """A BCP set-up step that cannot be done as asked; the message says what to do instead."""


class MappingInvalid(BcpError):
    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


# --- the passkey -------------------------------------------------------------------------------------


def passkey_generate() -> str:
    """A new passkey from `secrets`, grouped for reading: XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(PASSKEY_ALPHABET) for _ in range(PASSKEY_LENGTH))
    return "-".join(raw[i:i + PASSKEY_GROUP] for i in range(0, PASSKEY_LENGTH, PASSKEY_GROUP))


def passkey_normalize(passkey: str) -> str:
    """What people type is forgiven its case, dashes and spaces."""
    return "".join(ch for ch in (passkey or "") if ch not in "- \t\r\n").upper()


def passkey_hash(passkey: str) -> str:
    return make_password(passkey_normalize(passkey))


def passkey_matches(mapping: BcpMapping, passkey: str) -> bool:
    """Whether `passkey` is the pair's, compared with its hash. Nothing is counted or throttled here: a person
    entering a passkey goes through enablement's passkey_verify."""
    normalized = passkey_normalize(passkey)
    if not normalized or not mapping.passkey_hash:
        return False
    return check_password(normalized, mapping.passkey_hash)


def _require_password_hash(value: str) -> None:
    try:
        identify_hasher(value)
    except (ValueError, TypeError):
        raise BcpError(_("Generate a passkey before you finish.")) from None


# --- validation --------------------------------------------------------------------------------------


def _already_mapped(tenant: Tenant) -> str | None:
    mapping = mapping_for_tenant(tenant=tenant)
    if mapping is None:
        return None
    if mapping.primary_id == tenant.pk:
        return _("“%(tenant)s” is already the primary tenant of a BCP pair with “%(partner)s”. "
                 "Choose a tenant that is not mapped yet.") % {"tenant": tenant, "partner": mapping.secondary}
    return _("“%(tenant)s” is already the BCP tenant of “%(partner)s”. Choose a tenant that is not mapped yet.") % {
        "tenant": tenant, "partner": mapping.primary}


def mapping_validate(*, primary: Tenant, secondary_id_or_tenant, region: Region | None) -> list[str]:
    """Every reason the primary cannot be mapped to this DR tenant in this region, one sentence each.
    An empty list means the mapping can be saved."""
    problems: list[str] = []

    existing = mapping_for_tenant(tenant=primary)
    if existing is not None:
        partner = existing.partner_of(primary)
        problems.append(_("“%(primary)s” is already in a BCP pair with “%(partner)s”. Turn BCP off for that pair "
                          "before you map it to another tenant.") % {"primary": primary, "partner": partner})
    if not primary.is_active:
        problems.append(_("“%(primary)s” is inactive. Only an active tenant can be protected by BCP.")
                        % {"primary": primary})

    if region is None:
        problems.append(_("Choose the region the BCP tenant is hosted in under Available Regions."))
    elif region.pk == primary.region_id:
        problems.append(_("The BCP tenant must be hosted in a region other than the primary's (%(region)s). "
                          "Choose another region.") % {"region": primary.region.label})

    raw = secondary_id_or_tenant
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        problems.append(_("Choose a DR tenant, or paste its tenant ID from its General tab."))
        return problems
    secondary = dr_tenant_resolve(value=raw)
    if secondary is None:
        problems.append(_("No tenant has the ID “%(value)s”. Copy the ID from the BCP tenant's General tab in "
                          "Tenant Management and try again.") % {"value": str(raw).strip()[:64]})
        return problems
    if secondary.pk == primary.pk:
        problems.append(_("The DR tenant is “%(primary)s”, the primary tenant itself. Choose the BCP tenant you "
                          "created for this customer.") % {"primary": primary})
        return problems
    if region is not None and secondary.region_id != region.pk:
        problems.append(_("“%(tenant)s” is hosted in %(actual)s, not in %(chosen)s. Choose %(actual)s under "
                          "Available Regions, or choose a DR tenant in %(chosen)s.")
                        % {"tenant": secondary, "actual": secondary.region.label, "chosen": region.label})
    mapped = _already_mapped(secondary)
    if mapped:
        problems.append(mapped)
    if not secondary.is_active:
        problems.append(_("“%(tenant)s” is inactive. Set it to active, or choose an active tenant.")
                        % {"tenant": secondary})
    return problems


# --- the mapping ----------------------------------------------------------------------------------------


@transaction.atomic(using=CONTROL)
def mapping_create(
    *,
    primary: Tenant,
    secondary: Tenant,
    region: Region,
    passkey_hash: str,
    configurations_enabled: bool,
    enablement_enabled: bool,
    actor: Actor,
) -> BcpMapping:
    """Save the pair the wizard prepared. Validates again here: what the browser sends is never trusted."""
    _require_password_hash(passkey_hash)
    problems = mapping_validate(primary=primary, secondary_id_or_tenant=secondary, region=region)
    if problems:
        raise MappingInvalid(problems)
    try:
        with transaction.atomic(using=CONTROL):
            mapping = BcpMapping.objects.create(
                primary=primary,
                secondary=secondary,
                passkey_hash=passkey_hash,
                passkey_generated_at=timezone.now(),
                primary_configurations_enabled=configurations_enabled,
                primary_enablement_enabled=enablement_enabled,
                created_by=actor.user,
            )
            BcpMembership.objects.bulk_create([
                BcpMembership(mapping=mapping, tenant=primary, side=BcpMapping.Side.PRIMARY),
                BcpMembership(mapping=mapping, tenant=secondary, side=BcpMapping.Side.SECONDARY),
            ])
    except IntegrityError:
        # Another representative mapped one of these tenants in the same moment; the constraints decided.
        raise BcpError(_("“%(primary)s” or “%(secondary)s” was mapped by someone else a moment ago. Nothing was "
                         "saved. Reload the page to see the current state.")
                       % {"primary": primary, "secondary": secondary}) from None
    audit_record(action="bcp.mapping_create", by=actor, tenant=primary, obj=mapping, changes={
        "primary": str(primary.pk), "secondary": str(secondary.pk), "secondary_name": secondary.name,
        "region": region.code, "bcp_configurations": configurations_enabled,
        "bcp_tenant_enablement": enablement_enabled,
    })
    return mapping


def _locked(mapping: BcpMapping) -> BcpMapping:
    try:
        return BcpMapping.objects.locked().select_related("primary", "secondary").get(pk=mapping.pk)
    except BcpMapping.DoesNotExist:
        raise BcpError(_("This BCP pair no longer exists. Reload the page to see the current state.")) from None


@transaction.atomic(using=CONTROL)
def mapping_enable_secondary(
    *, mapping: BcpMapping, configurations_enabled: bool, enablement_enabled: bool, actor: Actor
) -> BcpMapping:
    """Record that BCP is turned on in the BCP tenant's own settings; the passkey stays as it is."""
    mapping = _locked(mapping)
    if mapping.secondary_enabled:
        raise BcpError(_("BCP is already on for “%(tenant)s”. Nothing was changed.") % {"tenant": mapping.secondary})
    mapping.secondary_configurations_enabled = configurations_enabled
    mapping.secondary_enablement_enabled = enablement_enabled
    mapping.secondary_enabled_at = timezone.now()
    mapping.secondary_enabled_by = actor.user
    mapping.save(update_fields=["secondary_configurations_enabled", "secondary_enablement_enabled",
                                "secondary_enabled_at", "secondary_enabled_by", "updated_at"])
    audit_record(action="bcp.secondary_enable", by=actor, tenant=mapping.secondary, obj=mapping,
                 changes={"primary": str(mapping.primary_id), "bcp_configurations": configurations_enabled,
                          "bcp_tenant_enablement": enablement_enabled})
    return mapping


@transaction.atomic(using=CONTROL)
def mapping_passkey_replace(*, mapping: BcpMapping, actor: Actor, from_tenant: Tenant | None = None) -> str:
    """A new shared passkey for the pair. Returns it once, for the page to show; the old one stops working."""
    mapping = _locked(mapping)
    passkey = passkey_generate()
    mapping.passkey_hash = passkey_hash(passkey)
    mapping.passkey_generated_at = timezone.now()
    mapping.save(update_fields=["passkey_hash", "passkey_generated_at", "updated_at"])
    tenant = from_tenant or mapping.primary
    audit_record(action="bcp.passkey_replace", by=actor, tenant=tenant, obj=mapping,
                 changes={"side": mapping.side_of(tenant) or ""})
    return passkey


@transaction.atomic(using=CONTROL)
def mapping_remove(*, mapping: BcpMapping, actor: Actor, from_tenant: Tenant | None = None) -> None:
    """Turn BCP off for the pair. Refused while the BCP tenant is the active one: people work there."""
    mapping = _locked(mapping)
    if mapping.active_side == BcpMapping.Side.SECONDARY:
        raise BcpError(_("“%(secondary)s”, the BCP tenant, is the active tenant now. Switch back to “%(primary)s” "
                         "before you turn BCP off.") % {"secondary": mapping.secondary, "primary": mapping.primary})
    tenant = from_tenant or mapping.primary
    audit_record(action="bcp.mapping_remove", by=actor, tenant=tenant, obj=mapping, changes={
        "primary": str(mapping.primary_id), "secondary": str(mapping.secondary_id),
        "side": mapping.side_of(tenant) or "",
    })
    mapping.memberships.all().delete()
    mapping.delete()
