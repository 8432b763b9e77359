"""The BCP wizard through HTTP: the steps, what the server refuses, and that nothing is stored before Save."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from tenants.bcp.services import passkey_matches, passkey_normalize
from tenants.models import BcpMapping, BcpMembership, Tenant
from tests.auditlog import audit_events
from tests.factories import TenantFactory
from tests.tenants.bcp_helpers import bcp_tenant_fixture, make_mapping  # noqa: F401

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PASSKEY_RE = re.compile(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){6}")


def url(name, tenant, **query):
    base = reverse(f"tenants:{name}", args=[tenant.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def signed_in(client, rep):
    client.force_login(rep)
    return client


def wizard_state(client, tenant):
    return client.session.get(f"bcp_wizard:{tenant.pk}")


def start(client, tenant, **headers):
    response = client.post(url("bcp_enable", tenant), **headers)
    assert response.status_code == 200, response.text
    return wizard_state(client, tenant)["id"]


def choose_settings(client, tenant, wizard_id, **headers):
    response = client.post(url("bcp_settings", tenant), {"wizard_id": wizard_id, "configurations": "on",
                                                         "enablement": "on"}, **headers)
    assert response.status_code == 200, response.text
    return response


def step(client, tenant, wizard_id, action, region, dr_tenant="", dr_tenant_id="", **headers):
    data = {"wizard_id": wizard_id, "action": action, "region": region.pk if region else "",
            "dr_tenant": dr_tenant, "dr_tenant_id": dr_tenant_id}
    return client.post(url("bcp_mapping", tenant), data, **headers)


def through_finish(client, tenant, secondary):
    wizard_id = start(client, tenant)
    choose_settings(client, tenant, wizard_id)
    assert step(client, tenant, wizard_id, "validate", secondary.region, str(secondary.pk)).status_code == 200
    response = step(client, tenant, wizard_id, "passkey", secondary.region, str(secondary.pk))
    passkey = PASSKEY_RE.search(response.text).group(0)
    response = step(client, tenant, wizard_id, "finish", secondary.region, str(secondary.pk))
    assert response.status_code == 302 and response.url == url("applications", tenant)
    return wizard_id, passkey


def nothing_stored():
    return (not BcpMapping.objects.exists() and not BcpMembership.objects.exists()
            and not audit_events().filter(action__startswith="bcp.").exists())


# --- the primary's wizard, step by step --------------------------------------------------------------------------


def test_it_sets_up_the_pair_and_stores_it_only_on_save(signed_in, tenant, bcp_tenant, region_eu):
    response = signed_in.get(url("bcp_enable", tenant), **HTMX)
    assert response.status_code == 200
    assert 'role="dialog"' in response.text and 'aria-modal="true"' in response.text
    assert "Turn on BCP for “Classics Inc.”?" in response.text

    response = signed_in.post(url("bcp_enable", tenant), **HTMX)
    assert "BCP Configurations" in response.text and "BCP Tenant Enablement" in response.text
    wizard_id = wizard_state(signed_in, tenant)["id"]

    response = choose_settings(signed_in, tenant, wizard_id, **HTMX)
    assert "Available Regions" in response.text and "DR Tenant" in response.text
    regions = re.findall(r'<option value="(\d+)"', response.text.split('id="bcp-region"')[1].split("</select>")[0])
    assert regions == [str(region_eu.pk)], "every region but the primary's"

    response = step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant=str(bcp_tenant.pk), **HTMX)
    assert response.status_code == 200 and "Validation succeeded" in response.text
    assert nothing_stored()

    response = step(signed_in, tenant, wizard_id, "passkey", region_eu, dr_tenant=str(bcp_tenant.pk), **HTMX)
    assert response.status_code == 200
    passkey = PASSKEY_RE.search(response.text).group(0)
    assert "as you would a password" in response.text and 'data-copy-target="#bcp-passkey"' in response.text
    assert nothing_stored()

    response = step(signed_in, tenant, wizard_id, "finish", region_eu, dr_tenant=str(bcp_tenant.pk), **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == url("applications", tenant)
    assert nothing_stored()

    response = signed_in.get(url("applications", tenant))
    assert "BCP set-up waiting for Save" in response.text and "Classics Inc. BCP" in response.text
    assert nothing_stored()

    response = signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id})
    assert response.status_code == 302
    mapping = BcpMapping.objects.get()
    assert (mapping.primary, mapping.secondary) == (tenant, bcp_tenant)
    assert mapping.primary_configurations_enabled and mapping.primary_enablement_enabled
    assert passkey_matches(mapping, passkey)
    assert wizard_state(signed_in, tenant) is None

    page = signed_in.get(url("applications", tenant)).text
    assert "On, as the primary tenant of the BCP tenant “Classics Inc. BCP” (Europe)." in page
    assert "is mapped to the BCP tenant" in page


def test_the_plain_passkey_is_nowhere_after_save(signed_in, tenant, bcp_tenant):
    wizard_id, passkey = through_finish(signed_in, tenant, bcp_tenant)
    raw = passkey_normalize(passkey)
    session_data = "".join(s.session_data + repr(s.get_decoded()) for s in Session.objects.all())
    assert raw not in session_data and passkey not in session_data, "not even before Save"
    signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id})
    mapping = BcpMapping.objects.get()
    row = repr(BcpMapping.objects.filter(pk=mapping.pk).values().get())
    audit = repr(list(audit_events().values()))
    session_data = "".join(s.session_data + repr(s.get_decoded()) for s in Session.objects.all())
    for text in (row, audit, session_data):
        assert raw not in text and passkey not in text and raw.lower() not in text
    assert "bcp_wizard" not in session_data


def test_validate_shows_each_problem_with_a_400(signed_in, tenant, region_eu, region_na):
    dormant = TenantFactory(name="Dormant", region=region_eu)
    make_mapping(TenantFactory(name="Wingtip", region=region_na), dormant)
    Tenant.objects.filter(pk=dormant.pk).update(status=Tenant.Status.INACTIVE)
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    response = step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant=str(dormant.pk))
    assert response.status_code == 400
    assert "Validation found 2 problems" in response.text
    assert "is already the BCP tenant of “Wingtip”" in response.text
    assert "“Dormant” is inactive" in response.text
    assert re.search(r'value="passkey"[^>]*disabled', response.text)
    assert re.search(r'value="finish"[^>]*disabled', response.text)


def test_validate_accepts_a_pasted_id_and_reports_an_unknown_one(signed_in, tenant, bcp_tenant, region_eu):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    response = step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant_id="no-such-tenant")
    assert response.status_code == 400 and "No tenant has the ID “no-such-tenant”" in response.text
    response = step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant_id=f" {bcp_tenant.pk} ")
    assert response.status_code == 200 and "Validation succeeded" in response.text


def test_a_pasted_id_that_contradicts_the_list_is_refused(signed_in, tenant, bcp_tenant, other_tenant, region_eu):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    response = step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant=str(bcp_tenant.pk),
                    dr_tenant_id=str(other_tenant.pk))
    assert response.status_code == 400 and "differ" in response.text


def test_step_one_needs_a_feature_turned_on(signed_in, tenant):
    wizard_id = start(signed_in, tenant)
    response = signed_in.post(url("bcp_settings", tenant), {"wizard_id": wizard_id})
    assert response.status_code == 400 and "Turn on BCP Configurations, BCP Tenant Enablement or both" in response.text
    response = signed_in.get(url("bcp_mapping", tenant))
    assert response.status_code == 409, "step 2 cannot be reached by URL before step 1"


# --- hand-made POSTs -----------------------------------------------------------------------------------------------


def test_generate_passkey_and_finish_are_refused_before_validation(signed_in, tenant, bcp_tenant, region_eu):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    for action in ("passkey", "finish"):
        response = step(signed_in, tenant, wizard_id, action, region_eu, dr_tenant=str(bcp_tenant.pk))
        assert response.status_code == 400 and "Click Validate first" in response.text
        assert not PASSKEY_RE.search(response.text)
    assert not wizard_state(signed_in, tenant)["passkey_hash"]
    assert not wizard_state(signed_in, tenant)["finished"]


def test_a_failed_validation_cannot_be_finished(signed_in, tenant, region_eu):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant_id=str(tenant.pk))
    response = step(signed_in, tenant, wizard_id, "finish", region_eu, dr_tenant_id=str(tenant.pk))
    assert response.status_code == 400
    assert signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id}).status_code == 409
    assert nothing_stored()


def test_finish_needs_a_passkey(signed_in, tenant, bcp_tenant, region_eu):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant=str(bcp_tenant.pk))
    response = step(signed_in, tenant, wizard_id, "finish", region_eu, dr_tenant=str(bcp_tenant.pk))
    assert response.status_code == 400 and "Click Generate Passkey" in response.text


@pytest.mark.parametrize("action", ["passkey", "finish"])
def test_a_dr_tenant_swapped_after_validation_is_refused(signed_in, tenant, bcp_tenant, region_eu, action):
    other = TenantFactory(name="Not validated", region=region_eu)
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant=str(bcp_tenant.pk))
    if action == "finish":
        step(signed_in, tenant, wizard_id, "passkey", region_eu, dr_tenant=str(bcp_tenant.pk))
    response = step(signed_in, tenant, wizard_id, action, region_eu, dr_tenant_id=str(other.pk))
    assert response.status_code == 400 and "changed after validation" in response.text
    state = wizard_state(signed_in, tenant)
    assert not state["validated"] and not state["passkey_hash"] and not state["finished"]
    assert signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id}).status_code == 409
    assert nothing_stored()


def test_a_replayed_save_changes_nothing(signed_in, tenant, bcp_tenant):
    wizard_id, passkey = through_finish(signed_in, tenant, bcp_tenant)
    assert signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id}).status_code == 302
    before = BcpMapping.objects.values().get()
    response = signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id})
    assert response.status_code == 409
    assert "This BCP set-up has ended" in response.text
    assert BcpMapping.objects.values().get() == before
    assert audit_events().filter(action="bcp.mapping_create").count() == 1


def test_a_save_for_another_wizard_run_is_refused(signed_in, tenant, bcp_tenant):
    through_finish(signed_in, tenant, bcp_tenant)
    response = signed_in.post(url("bcp_save", tenant), {"wizard_id": "0" * 32})
    assert response.status_code == 409 and nothing_stored()


def test_save_before_finish_is_refused(signed_in, tenant, bcp_tenant, region_eu):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant=str(bcp_tenant.pk))
    step(signed_in, tenant, wizard_id, "passkey", region_eu, dr_tenant=str(bcp_tenant.pk))
    response = signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id})
    assert response.status_code == 409 and "Finish the BCP set-up" in response.text
    assert nothing_stored()


def test_save_tells_who_lost_the_race(signed_in, tenant, bcp_tenant, region_na):
    wizard_id, _ = through_finish(signed_in, tenant, bcp_tenant)
    make_mapping(TenantFactory(name="Wingtip", region=region_na), bcp_tenant)  # another representative, meanwhile
    response = signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id})
    assert response.status_code == 409
    assert "already the BCP tenant of “Wingtip”" in response.text
    assert BcpMapping.objects.get().primary.name == "Wingtip"
    assert wizard_state(signed_in, tenant) is None


# --- leaving midway -------------------------------------------------------------------------------------------


def test_leaving_the_wizard_midway_leaves_no_trace(signed_in, tenant, bcp_tenant, region_eu):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant=str(bcp_tenant.pk))
    step(signed_in, tenant, wizard_id, "passkey", region_eu, dr_tenant=str(bcp_tenant.pk))
    page = signed_in.get(url("applications", tenant))
    assert "waiting for Save" not in page.text
    assert wizard_state(signed_in, tenant) is None
    assert step(signed_in, tenant, wizard_id, "finish", region_eu, dr_tenant=str(bcp_tenant.pk)).status_code == 409
    assert nothing_stored()


def test_cancel_forgets_the_run(signed_in, tenant, bcp_tenant):
    wizard_id = start(signed_in, tenant)
    response = signed_in.post(url("bcp_cancel", tenant), {"wizard_id": wizard_id}, **HTMX)
    assert response.status_code == 200 and response.content == b""
    assert wizard_state(signed_in, tenant) is None
    wizard_id, _ = through_finish(signed_in, tenant, bcp_tenant)
    response = signed_in.post(url("bcp_cancel", tenant), {"from": "tab"})
    assert response.status_code == 302 and wizard_state(signed_in, tenant) is None
    assert signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id}).status_code == 409
    assert nothing_stored()


def test_the_dr_tenant_list_follows_the_region(signed_in, tenant, bcp_tenant, other_tenant, region_eu, region_na):
    response = signed_in.get(url("bcp_dr_tenants", tenant, region=region_eu.pk), **HTMX)
    assert response.status_code == 200
    assert "Classics Inc. BCP" in response.text and "Northwind Support" in response.text
    response = signed_in.get(url("bcp_dr_tenants", tenant, region=region_na.pk), **HTMX)
    assert "Classics Inc." not in response.text, "neither the primary nor its own region is offered"


def test_the_dr_tenant_list_leaves_out_tenants_already_in_a_pair(signed_in, tenant, bcp_tenant, region_eu, region_na):
    other_primary = TenantFactory(name="Northwind Support", region=region_na)
    make_mapping(other_primary, bcp_tenant)  # Classics Inc. BCP now backs up another tenant
    free = TenantFactory(name="Contoso Care", region=region_eu)
    response = signed_in.get(url("bcp_dr_tenants", tenant, region=region_eu.pk), **HTMX)
    assert response.status_code == 200
    assert free.name in response.text and "Classics Inc. BCP" not in response.text


def test_the_wizard_works_as_pages_without_javascript(signed_in, tenant, bcp_tenant, region_eu):
    response = signed_in.get(url("bcp_enable", tenant))
    assert response.status_code == 200 and "<html" in response.text and 'hx-post' not in response.text
    wizard_id, passkey = through_finish(signed_in, tenant, bcp_tenant)
    assert signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id}).status_code == 302
    assert passkey_matches(BcpMapping.objects.get(), passkey)


# --- the BCP tenant's side ------------------------------------------------------------------------------------


def test_the_bcp_tenant_shows_the_mapping_and_needs_no_passkey(signed_in, tenant, bcp_tenant):
    mapping, passkey = make_mapping(tenant, bcp_tenant)
    page = signed_in.get(url("applications", bcp_tenant)).text
    assert "already mapped as the BCP tenant of “Classics Inc.”" in page

    wizard_id = start(signed_in, bcp_tenant, **HTMX)
    response = choose_settings(signed_in, bcp_tenant, wizard_id, **HTMX)
    assert "The mapping is already configured" in response.text
    assert "Classics Inc." in response.text and "North America" in response.text
    assert 'name="dr_tenant' not in response.text and "Generate Passkey" not in response.text

    response = signed_in.post(url("bcp_mapping", bcp_tenant), {"wizard_id": wizard_id, "action": "finish"}, **HTMX)
    assert response["HX-Redirect"] == url("applications", bcp_tenant)
    mapping.refresh_from_db()
    assert not mapping.secondary_enabled, "not before Save"

    assert signed_in.post(url("bcp_save", bcp_tenant), {"wizard_id": wizard_id}).status_code == 302
    mapping.refresh_from_db()
    assert mapping.secondary_enabled and mapping.secondary_enablement_enabled
    assert passkey_matches(mapping, passkey), "the primary's passkey still works"
    page = signed_in.get(url("applications", bcp_tenant)).text
    assert "On, as the BCP tenant of “Classics Inc.” (North America)." in page
    assert signed_in.post(url("bcp_save", bcp_tenant), {"wizard_id": wizard_id}).status_code == 409


def test_bcp_already_on_cannot_be_turned_on_again(signed_in, tenant, bcp_tenant):
    make_mapping(tenant, bcp_tenant)
    response = signed_in.get(url("bcp_enable", tenant), **HTMX)
    assert response.status_code == 409 and "BCP is already on" in response.text
    assert signed_in.post(url("bcp_enable", tenant)).status_code == 409


@pytest.mark.parametrize("side", ["primary", "secondary"])
def test_a_new_passkey_from_either_side_replaces_the_old_one(signed_in, tenant, bcp_tenant, side):
    mapping, old = make_mapping(tenant, bcp_tenant)
    where = tenant if side == "primary" else bcp_tenant
    response = signed_in.get(url("bcp_passkey", where), **HTMX)
    assert response.status_code == 200 and "stops working" in response.text
    response = signed_in.post(url("bcp_passkey", where), **HTMX)
    new = PASSKEY_RE.search(response.text).group(0)
    mapping.refresh_from_db()
    assert passkey_matches(mapping, new) and not passkey_matches(mapping, old)


def test_turning_bcp_off_removes_the_mapping_after_confirmation(signed_in, tenant, bcp_tenant):
    make_mapping(tenant, bcp_tenant)
    response = signed_in.get(url("bcp_disable", bcp_tenant), **HTMX)
    assert response.status_code == 200 and "This removes the mapping" in response.text
    assert BcpMapping.objects.exists()
    response = signed_in.post(url("bcp_disable", bcp_tenant))
    assert response.status_code == 302 and not BcpMapping.objects.exists()
    assert "Off." in signed_in.get(url("applications", tenant)).text


def test_turning_bcp_off_is_refused_while_the_backup_is_active(signed_in, tenant, bcp_tenant):
    mapping, _ = make_mapping(tenant, bcp_tenant)
    BcpMapping.objects.filter(pk=mapping.pk).update(active_side=BcpMapping.Side.SECONDARY)
    response = signed_in.post(url("bcp_disable", tenant), **HTMX)
    assert response.status_code == 409 and "is the active tenant now" in response.text
    assert BcpMapping.objects.exists()


def test_the_tab_says_off_when_there_is_no_mapping(signed_in, tenant):
    page = signed_in.get(url("applications", tenant)).text
    assert "Off." in page and 'role="switch" aria-checked="false"' in page


def test_a_step_from_an_older_wizard_run_is_refused(signed_in, tenant, bcp_tenant, region_eu):
    old = start(signed_in, tenant)
    new = start(signed_in, tenant)
    assert old != new
    response = signed_in.post(url("bcp_settings", tenant), {"wizard_id": old, "configurations": "on"})
    assert response.status_code == 409
    response = signed_in.post(url("bcp_settings", tenant), {"configurations": "on"})
    assert response.status_code == 409, "a hand-made POST without the run's id"
    choose_settings(signed_in, tenant, new)
    response = step(signed_in, tenant, old, "validate", region_eu, dr_tenant=str(bcp_tenant.pk))
    assert response.status_code == 409 and not wizard_state(signed_in, tenant)["validated"]


def test_a_wizard_left_open_too_long_expires(signed_in, tenant, bcp_tenant):
    wizard_id, _ = through_finish(signed_in, tenant, bcp_tenant)
    session = signed_in.session
    session[f"bcp_wizard:{tenant.pk}"]["started_at"] -= 31 * 60
    session.save()
    assert "waiting for Save" not in signed_in.get(url("applications", tenant)).text
    assert signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id}).status_code == 409
    assert nothing_stored()


def test_save_errors_are_shown_on_the_tab(signed_in, tenant):
    response = signed_in.post(url("bcp_save", tenant), {"wizard_id": "whatever"})
    assert response.status_code == 409
    assert 'role="alert" id="bcp-error"' in response.text and "Turn BCP on again to start over" in response.text


def test_pages_that_show_a_passkey_are_never_cached(signed_in, tenant, bcp_tenant, region_eu):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    step(signed_in, tenant, wizard_id, "validate", region_eu, dr_tenant=str(bcp_tenant.pk))
    response = step(signed_in, tenant, wizard_id, "passkey", region_eu, dr_tenant=str(bcp_tenant.pk), **HTMX)
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in signed_in.get(url("applications", tenant))["Cache-Control"]


def test_back_returns_to_step_one_with_the_choices_kept(signed_in, tenant):
    wizard_id = start(signed_in, tenant)
    response = choose_settings(signed_in, tenant, wizard_id, **HTMX)
    assert "Back" in response.text
    response = signed_in.get(url("bcp_settings", tenant), **HTMX)
    assert response.status_code == 200
    assert re.search(r'id="bcp-configurations"[^>]*checked', response.text)
    assert re.search(r'id="bcp-enablement"[^>]*checked', response.text)


def test_the_tab_and_the_dr_tenant_list_take_a_fixed_number_of_queries(signed_in, tenant, bcp_tenant, region_eu,
                                                                        django_assert_max_num_queries):
    make_mapping(tenant, bcp_tenant)
    for n in range(20):
        TenantFactory(name=f"Spare {n:02d}", region=region_eu)
    with django_assert_max_num_queries(12):
        assert signed_in.get(url("applications", tenant)).status_code == 200
    with django_assert_max_num_queries(8):
        response = signed_in.get(url("bcp_dr_tenants", tenant, region=region_eu.pk), **HTMX)
    assert "Spare 19" in response.text


def test_a_pasted_id_alone_is_enough_its_region_follows(signed_in, tenant, bcp_tenant):
    wizard_id = start(signed_in, tenant)
    choose_settings(signed_in, tenant, wizard_id)
    response = step(signed_in, tenant, wizard_id, "validate", None, dr_tenant_id=str(bcp_tenant.pk))
    assert response.status_code == 200 and "Validation succeeded" in response.text
    response = step(signed_in, tenant, wizard_id, "passkey", None, dr_tenant_id=str(bcp_tenant.pk))
    assert response.status_code == 200 and PASSKEY_RE.search(response.text)
    response = step(signed_in, tenant, wizard_id, "finish", None, dr_tenant_id=str(bcp_tenant.pk))
    assert response.status_code == 302
    assert signed_in.post(url("bcp_save", tenant), {"wizard_id": wizard_id}).status_code == 302
    mapping = BcpMapping.objects.get(primary=tenant)
    assert mapping.secondary == bcp_tenant
