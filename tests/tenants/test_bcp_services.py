"""BCP services: every validation rule, the passkey, the mapping's life and its database constraints."""

import math
import re
from unittest import mock

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.db import IntegrityError, transaction
from django.test import RequestFactory

from audit.services import Actor
from bcp_project.exceptions import ApplicationError
from tenants.bcp import services as bcp_services
from tenants.bcp.services import (
    PASSKEY_ALPHABET,
    PASSKEY_BITS,
    MappingInvalid,
    mapping_create,
    mapping_enable_secondary,
    mapping_passkey_replace,
    mapping_remove,
    mapping_validate,
    passkey_generate,
    passkey_hash,
    passkey_matches,
    passkey_normalize,
)
from tenants.models import BcpMapping, BcpMembership, Tenant
from tests.auditlog import audit_events
from tests.factories import RegionFactory, TenantFactory
from tests.tenants.bcp_helpers import bcp_tenant_fixture, make_mapping  # noqa: F401

pytestmark = pytest.mark.django_db


def rep_actor(rep):
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7")
    request.user = rep
    request.impersonation = None
    return Actor.from_request(request)


# --- validation: one message per problem ------------------------------------------------------------------


def test_it_accepts_a_valid_mapping(tenant, bcp_tenant, region_eu):
    assert mapping_validate(primary=tenant, secondary_id_or_tenant=bcp_tenant, region=region_eu) == []
    assert mapping_validate(primary=tenant, secondary_id_or_tenant=str(bcp_tenant.pk), region=region_eu) == []


def test_it_accepts_a_pasted_id_with_spaces_and_capitals(tenant, bcp_tenant, region_eu):
    pasted = f"  {str(bcp_tenant.pk).upper()}\n"
    assert mapping_validate(primary=tenant, secondary_id_or_tenant=pasted, region=region_eu) == []


@pytest.mark.parametrize("value", ["", "   ", None])
def test_it_asks_for_a_dr_tenant(tenant, region_eu, value):
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=value, region=region_eu)
    assert problems == ["Choose a DR tenant, or paste its tenant ID from its General tab."]


@pytest.mark.parametrize("value", ["not-a-uuid", "7d3c3a0e-0000-4000-8000-000000000000"])
def test_it_says_the_dr_tenant_does_not_exist(tenant, region_eu, value):
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=value, region=region_eu)
    assert len(problems) == 1
    assert problems[0].startswith(f"No tenant has the ID “{value}”")


def test_it_says_the_dr_tenant_is_the_primary_itself(tenant, region_eu):
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=str(tenant.pk), region=region_eu)
    assert problems == ["The DR tenant is “Classics Inc.”, the primary tenant itself. Choose the BCP tenant you "
                        "created for this customer."]


def test_it_says_the_dr_tenant_is_not_in_the_chosen_region(tenant, bcp_tenant):
    apac = RegionFactory(name="Asia Pacific", code="apac")
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=bcp_tenant, region=apac)
    assert problems == ["“Classics Inc. BCP” is hosted in Europe, not in Asia Pacific. Choose Europe under "
                        "Available Regions, or choose a DR tenant in Asia Pacific."]


def test_it_refuses_the_primarys_own_region(tenant, region_na):
    same_region = TenantFactory(name="Classics Inc. NA backup", region=region_na)
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=same_region, region=region_na)
    assert problems == ["The BCP tenant must be hosted in a region other than the primary's (North America). "
                        "Choose another region."]


def test_it_asks_for_a_region(tenant, bcp_tenant):
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=bcp_tenant, region=None)
    assert problems == ["Choose the region the BCP tenant is hosted in under Available Regions."]


def test_it_says_the_dr_tenant_is_already_a_backup(tenant, bcp_tenant, region_eu, region_na):
    make_mapping(TenantFactory(name="Wingtip", region=region_na), bcp_tenant)
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=bcp_tenant, region=region_eu)
    assert problems == ["“Classics Inc. BCP” is already the BCP tenant of “Wingtip”. Choose a tenant that is not "
                        "mapped yet."]


def test_it_says_the_dr_tenant_is_already_a_primary(tenant, bcp_tenant, region_eu):
    apac = RegionFactory(name="Asia Pacific", code="apac")
    make_mapping(bcp_tenant, TenantFactory(name="Elsewhere", region=apac))
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=bcp_tenant, region=region_eu)
    assert problems == ["“Classics Inc. BCP” is already the primary tenant of a BCP pair with “Elsewhere”. Choose a "
                        "tenant that is not mapped yet."]


def test_it_says_the_dr_tenant_is_inactive(tenant, region_eu):
    dormant = TenantFactory(name="Dormant", region=region_eu, status=Tenant.Status.INACTIVE)
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=dormant, region=region_eu)
    assert problems == ["“Dormant” is inactive. Set it to active, or choose an active tenant."]


def test_it_says_the_primary_already_has_a_mapping(tenant, bcp_tenant, region_eu):
    make_mapping(tenant, bcp_tenant)
    other = TenantFactory(name="Second backup", region=region_eu)
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=other, region=region_eu)
    assert problems == ["“Classics Inc.” is already in a BCP pair with “Classics Inc. BCP”. Turn BCP off for that "
                        "pair before you map it to another tenant."]


def test_it_says_the_primary_is_already_someones_backup(tenant, bcp_tenant, region_eu):
    apac = RegionFactory(name="Asia Pacific", code="apac")
    make_mapping(TenantFactory(name="Head office", region=apac), tenant)
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=bcp_tenant, region=region_eu)
    assert problems == ["“Classics Inc.” is already in a BCP pair with “Head office”. Turn BCP off for that pair "
                        "before you map it to another tenant."]


def test_it_lists_every_problem_at_once(tenant, bcp_tenant, region_eu, region_na):
    make_mapping(tenant, TenantFactory(name="Old backup", region=region_eu))
    make_mapping(TenantFactory(name="Wingtip", region=region_na), bcp_tenant)
    bcp_tenant.status = Tenant.Status.INACTIVE
    bcp_tenant.save()
    apac = RegionFactory(name="Asia Pacific", code="apac")
    problems = mapping_validate(primary=tenant, secondary_id_or_tenant=bcp_tenant, region=apac)
    assert len(problems) == 4
    assert [p.split(" ")[0] for p in problems] == ["“Classics", "“Classics", "“Classics", "“Classics"]
    assert "already in a BCP pair" in problems[0]
    assert "not in Asia Pacific" in problems[1]
    assert "already the BCP tenant of “Wingtip”" in problems[2]
    assert "inactive" in problems[3]


# --- the passkey -----------------------------------------------------------------------------------------------


def test_it_generates_at_least_128_bits_in_a_grouped_form():
    assert PASSKEY_BITS >= 128
    passkey = passkey_generate()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){6}", passkey), passkey
    raw = passkey_normalize(passkey)
    assert len(raw) * math.log2(len(PASSKEY_ALPHABET)) >= 128
    assert len({passkey_generate() for _ in range(500)}) == 500


def test_it_draws_every_character_from_secrets():
    with mock.patch.object(bcp_services.secrets, "choice", return_value="Q") as choice:
        assert passkey_normalize(passkey_generate()) == "Q" * 28
    assert choice.call_count == 28


def test_it_accepts_the_passkey_with_or_without_dashes_spaces_and_case(tenant, bcp_tenant):
    mapping, passkey = make_mapping(tenant, bcp_tenant)
    raw = passkey.replace("-", "")
    for typed in (passkey, raw, raw.lower(), " ".join(passkey.split("-")), f"  {passkey.lower()}  "):
        assert passkey_matches(mapping, typed), typed
    assert not passkey_matches(mapping, "")
    assert not passkey_matches(mapping, raw[:-1] + ("A" if raw[-1] != "A" else "B"))


def test_it_stores_only_a_password_hash(tenant, bcp_tenant, rep):
    mapping, passkey = make_mapping(tenant, bcp_tenant, actor=rep_actor(rep))
    mapping.refresh_from_db()
    identify_hasher(mapping.passkey_hash)
    raw = passkey_normalize(passkey)
    row = {f.attname: str(getattr(mapping, f.attname)) for f in BcpMapping._meta.concrete_fields}
    assert not any(raw in value or passkey in value for value in row.values())
    for event in audit_events().all():
        text = repr(event.__dict__)
        assert raw not in text and passkey not in text


@pytest.mark.parametrize("side", ["primary", "secondary"])
def test_it_replaces_the_passkey_from_either_side_and_the_old_one_fails(tenant, bcp_tenant, rep, side):
    mapping, old = make_mapping(tenant, bcp_tenant)
    from_tenant = tenant if side == "primary" else bcp_tenant
    new = mapping_passkey_replace(mapping=mapping, actor=rep_actor(rep), from_tenant=from_tenant)
    mapping.refresh_from_db()
    assert new != old
    assert passkey_matches(mapping, new)
    assert not passkey_matches(mapping, old)
    event = audit_events().get(action="bcp.passkey_replace")
    assert event.tenant == from_tenant and event.changes == {"side": side}
    assert event.actor == rep and event.ip_address == "203.0.113.7"
    assert new not in repr(event.__dict__) and passkey_normalize(new) not in repr(event.__dict__)


# --- creating, enabling, removing --------------------------------------------------------------------------


def test_it_creates_the_mapping_and_audits_who_and_where(tenant, bcp_tenant, rep):
    mapping, _ = make_mapping(tenant, bcp_tenant, actor=rep_actor(rep))
    assert mapping.primary == tenant and mapping.secondary == bcp_tenant
    assert mapping.active_side == BcpMapping.Side.PRIMARY and mapping.routing_epoch == 0
    assert mapping.created_by == rep and not mapping.secondary_enabled
    assert set(BcpMembership.objects.values_list("tenant_id", "side")) == {
        (tenant.pk, "primary"), (bcp_tenant.pk, "secondary")}
    event = audit_events().get(action="bcp.mapping_create")
    assert event.actor == rep and event.ip_address == "203.0.113.7" and event.tenant == tenant
    assert event.changes["secondary"] == str(bcp_tenant.pk) and event.changes["region"] == "eu"


def test_it_revalidates_on_save(tenant, region_na):
    same_region = TenantFactory(name="Same region", region=region_na)
    with pytest.raises(MappingInvalid) as exc:
        mapping_create(primary=tenant, secondary=same_region, region=region_na,
                       passkey_hash=passkey_hash(passkey_generate()), configurations_enabled=True,
                       enablement_enabled=True, actor=Actor.system())
    assert len(exc.value.problems) == 1
    assert not BcpMapping.objects.exists()


def test_it_refuses_a_mapping_without_a_passkey_hash(tenant, bcp_tenant, region_eu):
    for bad in ("", "ABCD-EFGH", passkey_generate()):
        with pytest.raises(ApplicationError, match="Generate a passkey"):
            mapping_create(primary=tenant, secondary=bcp_tenant, region=region_eu, passkey_hash=bad,
                           configurations_enabled=True, enablement_enabled=True, actor=Actor.system())
    assert not BcpMapping.objects.exists()


def test_the_database_decides_when_validation_raced(tenant, bcp_tenant, region_eu, region_na):
    """As if the other representative committed between our validation and our insert."""
    make_mapping(TenantFactory(name="Wingtip", region=region_na), bcp_tenant)
    with mock.patch.object(bcp_services, "mapping_validate", return_value=[]):
        with pytest.raises(ApplicationError, match="was mapped by someone else a moment ago"):
            mapping_create(primary=tenant, secondary=bcp_tenant, region=region_eu,
                           passkey_hash=passkey_hash(passkey_generate()), configurations_enabled=True,
                           enablement_enabled=True, actor=Actor.system())
    assert BcpMapping.objects.count() == 1
    assert not BcpMembership.objects.filter(tenant=tenant).exists()


def test_a_tenant_cannot_be_primary_of_one_pair_and_backup_of_another(tenant, bcp_tenant, region_na):
    make_mapping(tenant, bcp_tenant)
    apac = RegionFactory(name="Asia Pacific", code="apac")
    with mock.patch.object(bcp_services, "mapping_validate", return_value=[]):
        with pytest.raises(ApplicationError):
            make_mapping(TenantFactory(name="Head office", region=apac), tenant)
    assert BcpMapping.objects.count() == 1


def test_the_database_refuses_a_tenant_mapped_to_itself(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        BcpMapping.objects.create(primary=tenant, secondary=tenant, passkey_hash="x",
                                  passkey_generated_at="2026-01-01T00:00Z")


def test_the_database_refuses_an_unknown_active_side(tenant, bcp_tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        BcpMapping.objects.create(primary=tenant, secondary=bcp_tenant, passkey_hash="x", active_side="both",
                                  passkey_generated_at="2026-01-01T00:00Z")


def test_it_enables_the_secondary_once(tenant, bcp_tenant, rep):
    mapping, passkey = make_mapping(tenant, bcp_tenant)
    mapping = mapping_enable_secondary(mapping=mapping, configurations_enabled=True, enablement_enabled=False,
                                       actor=rep_actor(rep))
    mapping.refresh_from_db()
    assert mapping.secondary_enabled and mapping.secondary_enabled_by == rep
    assert mapping.secondary_configurations_enabled and not mapping.secondary_enablement_enabled
    assert passkey_matches(mapping, passkey), "enabling the BCP tenant keeps the shared passkey"
    assert audit_events().get(action="bcp.secondary_enable").tenant == bcp_tenant
    with pytest.raises(ApplicationError, match="already on"):
        mapping_enable_secondary(mapping=mapping, configurations_enabled=True, enablement_enabled=True,
                                 actor=Actor.system())


@pytest.mark.parametrize("side", ["primary", "secondary"])
def test_it_removes_the_mapping_from_either_side(tenant, bcp_tenant, rep, side):
    mapping, _ = make_mapping(tenant, bcp_tenant)
    mapping_remove(mapping=mapping, actor=rep_actor(rep), from_tenant=tenant if side == "primary" else bcp_tenant)
    assert not BcpMapping.objects.exists() and not BcpMembership.objects.exists()
    event = audit_events().get(action="bcp.mapping_remove")
    assert event.changes["side"] == side and event.actor == rep


def test_it_refuses_to_remove_the_mapping_while_the_backup_is_active(tenant, bcp_tenant):
    mapping, _ = make_mapping(tenant, bcp_tenant)
    BcpMapping.objects.filter(pk=mapping.pk).update(active_side=BcpMapping.Side.SECONDARY)
    with pytest.raises(ApplicationError, match="is the active tenant now"):
        mapping_remove(mapping=mapping, actor=Actor.system())
    assert BcpMapping.objects.count() == 1 and BcpMembership.objects.count() == 2
