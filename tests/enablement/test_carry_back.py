"""Nothing lost on the way home: what the BCP tenant changed while it was active, carried back to the primary or
left to the primary's version, before the switch back (sync/carryback.py, enablement.services.tenant_switch)."""

import pytest

from accounts.models import User
from audit.services import Actor
from contactcenter import services as cc
from contactcenter.models import Deletion, Disposition, PointOfContact, Skill, Tag, Team
from enablement import services
from sync import carryback
from sync.models import CarryBack, Correlation, SyncRun
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.enablement.conftest import PASSKEY, run_sync

BCP, PRIMARY = BcpMapping.Side.SECONDARY, BcpMapping.Side.PRIMARY


def alice():
    return User.objects.get(username="alice", is_bcp_copy=False)


def switch(mapping, to_side, **kwargs):
    result = services.tenant_switch(mapping=mapping, to_side=to_side, passkey=PASSKEY, actor=Actor(user=alice()),
                                    **kwargs)
    mapping.refresh_from_db()
    return result


@pytest.fixture
def on_bcp(synced):
    """The pair switched to its BCP tenant, after one complete sync."""
    switch(synced, BCP)
    return synced


def changes(mapping):
    return carryback.bcp_changes(mapping=mapping)


def by_name(found):
    return {item.name: item for item in found.items}


def copy_of(model, mapping, name):
    return model.objects.get(tenant_id=mapping.secondary_id, name=name)


def original(model, mapping, name):
    return model.objects.get(tenant_id=mapping.primary_id, name=name)


def test_nothing_is_listed_while_the_primary_is_active_or_nothing_changed(synced):
    assert changes(synced).items == []
    switch(synced, BCP)
    assert changes(synced).items == []


def test_each_kind_of_change_is_listed_with_both_sides(on_bcp):
    bcp, actor = on_bcp.secondary, Actor.system()
    cc.tag_create(tenant=bcp, name="Storm", actor=actor)
    cc.team_update(team=copy_of(Team, on_bcp, "Sales"), name="Sales", description="Night shift", actor=actor)
    cc.tag_delete(tag=copy_of(Tag, on_bcp, "VIP"), actor=actor)
    # The primary changed the same team meanwhile: a conflict.
    cc.team_update(team=original(Team, on_bcp, "Sales"), name="Sales", description="Day shift", actor=actor)
    found = by_name(changes(on_bcp))
    assert set(found) == {"Storm", "Sales", "VIP"}
    assert (found["Storm"].kind, found["Storm"].primary_state) == ("created", "")
    assert (found["Sales"].kind, found["Sales"].primary_state, found["Sales"].conflict) == ("edited", "changed", True)
    assert (found["VIP"].kind, found["VIP"].primary_state, found["VIP"].conflict) == ("deleted", "unchanged", False)


def test_a_record_made_on_the_bcp_tenant_before_the_switch_is_not_listed(synced):
    cc.tag_create(tenant=synced.secondary, name="Own tag", actor=Actor.system())
    switch(synced, BCP)
    assert changes(synced).items == []


def choose_all(found, choice=carryback.CARRY):
    return {item.key: choice for item in found.items}


def carry(mapping, choices=None, found=None):
    found = found or changes(mapping)
    return carryback.carry_back(mapping=mapping, choices=choices or choose_all(found), token=found.token,
                                actor=Actor(user=alice()))


def test_carried_back_records_reach_the_primary_and_the_next_forward_run_changes_nothing(on_bcp):
    bcp, actor = on_bcp.secondary, Actor.system()
    # A skill created there, and a point of contact created there that uses it: the link is remapped.
    skill = cc.skill_create(tenant=bcp, name="Storm Line", channel="phone", actor=actor)
    cc.point_of_contact_create(tenant=bcp, name="Storm Hotline", channel="phone", address="+14155550142",
                               skill=skill, hours=copy_of(PointOfContact, on_bcp, "Billing Line").hours, actor=actor)
    cc.disposition_create(tenant=bcp, name="Storm call", skills=[skill, copy_of(Skill, on_bcp, "Web Chat")],
                          actor=actor)
    cc.team_update(team=copy_of(Team, on_bcp, "Sales"), name="Sales", description="Night shift", actor=actor)
    cc.tag_delete(tag=copy_of(Tag, on_bcp, "VIP"), actor=actor)
    result = carry(on_bcp)
    assert {item.name for item in result.carried} == {"Storm Line", "Storm Hotline", "Storm call", "Sales", "VIP"}

    primary_skill = original(Skill, on_bcp, "Storm Line")
    hotline = original(PointOfContact, on_bcp, "Storm Hotline")
    assert hotline.skill == primary_skill and hotline.hours == original(PointOfContact, on_bcp, "Billing Line").hours
    assert set(original(Disposition, on_bcp, "Storm call").skills.values_list("name", flat=True)) == {
        "Storm Line", "Web Chat"}
    assert original(Team, on_bcp, "Sales").description == "Night shift"
    assert not Tag.objects.filter(tenant_id=on_bcp.primary_id, name="VIP").exists()
    assert Deletion.objects.filter(tenant_id=on_bcp.primary_id, entity_type="tag", natural_key="VIP").exists()
    # The correlations are kept: the two are one record.
    assert Correlation.objects.get(mapping=on_bcp, entity_type="skill", source_id=primary_skill.pk).target_id == \
        skill.pk
    # Each record is audited in the primary's region, naming who and what.
    events = audit_events().filter(action="sync.carried_back")
    assert events.count() == 5 and {e.actor for e in events} == {alice()}
    assert changes(on_bcp).items == []
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.DONE

    switch(on_bcp, PRIMARY)
    run = run_sync(on_bcp.primary)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    totals = run.totals
    assert (totals["created"], totals["updated"], totals["deleted"]) == (0, 0, 0), run.counts
    assert Skill.objects.filter(tenant_id=on_bcp.secondary_id, name="Storm Line").count() == 1


def test_the_primarys_version_stands_where_chosen_and_the_next_forward_run_overwrites_it(on_bcp):
    bcp, actor = on_bcp.secondary, Actor.system()
    cc.team_update(team=copy_of(Team, on_bcp, "Sales"), name="Sales", description="Night shift", actor=actor)
    cc.tag_delete(tag=copy_of(Tag, on_bcp, "VIP"), actor=actor)
    cc.tag_create(tenant=bcp, name="Storm", actor=actor)
    found = changes(on_bcp)
    result = switch(on_bcp, PRIMARY, choices=choose_all(found, carryback.KEEP), changes_token=found.token)
    assert result.carried == [] and len(result.kept) == 3 and on_bcp.active_side == PRIMARY
    assert not CarryBack.objects.filter(mapping=on_bcp).exists()
    # The switch's audit row says what the administrator let the primary's version overwrite.
    event = audit_events().get(action="enablement.switch", changes__to=PRIMARY)
    assert sorted(event.changes["primary_version_stands"]) == sorted(item.key for item in found.items)
    run = run_sync(on_bcp.primary)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert copy_of(Team, on_bcp, "Sales").description == ""
    assert copy_of(Tag, on_bcp, "VIP")
    # A record created on the BCP tenant and not carried back stays there only; the sync never touches it.
    assert copy_of(Tag, on_bcp, "Storm") and not Tag.objects.filter(tenant_id=on_bcp.primary_id, name="Storm")


def test_a_switch_back_that_was_not_shown_the_changes_is_refused_and_nothing_changes(on_bcp):
    cc.team_update(team=copy_of(Team, on_bcp, "Sales"), name="Sales", description="Night shift", actor=Actor.system())
    with pytest.raises(services.ReviewChanges, match="Changes on the BCP tenant"):
        switch(on_bcp, PRIMARY)
    assert on_bcp.active_side == BCP and original(Team, on_bcp, "Sales").description == ""


def test_a_switch_back_carries_back_what_was_chosen_first(on_bcp):
    actor = Actor.system()
    cc.team_update(team=copy_of(Team, on_bcp, "Sales"), name="Sales", description="Night shift", actor=actor)
    storm = cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=actor)
    found = changes(on_bcp)
    choices = {**choose_all(found), f"tag:{storm.pk}": carryback.KEEP}
    result = switch(on_bcp, PRIMARY, choices=choices, changes_token=found.token)
    assert [item.name for item in result.carried] == ["Sales"] and [item.name for item in result.kept] == ["Storm"]
    assert on_bcp.active_side == PRIMARY and original(Team, on_bcp, "Sales").description == "Night shift"
    assert not Tag.objects.filter(tenant_id=on_bcp.primary_id, name="Storm").exists()


def test_a_list_that_changed_since_it_was_shown_is_refused_and_nothing_changes(on_bcp):
    actor = Actor.system()
    cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=actor)
    shown = changes(on_bcp)
    cc.tag_create(tenant=on_bcp.secondary, name="Hail", actor=actor)
    with pytest.raises(carryback.ChangesMoved):
        carry(on_bcp, choices={**choose_all(shown), f"tag:{copy_of(Tag, on_bcp, 'Hail').pk}": "carry"}, found=shown)
    with pytest.raises(services.ReviewChanges, match="not the ones you were shown"):
        switch(on_bcp, PRIMARY, choices=choose_all(shown), changes_token=shown.token)
    assert on_bcp.active_side == BCP
    assert not Tag.objects.filter(tenant_id=on_bcp.primary_id, name__in=["Storm", "Hail"]).exists()
    assert not CarryBack.objects.filter(mapping=on_bcp).exists()


def test_a_record_linking_to_one_created_there_needs_that_one_carried_back_too(on_bcp):
    bcp, actor = on_bcp.secondary, Actor.system()
    skill = cc.skill_create(tenant=bcp, name="Storm Line", channel="phone", actor=actor)
    cc.disposition_create(tenant=bcp, name="Storm call", skills=[skill], actor=actor)
    found = changes(on_bcp)
    choices = choose_all(found)
    choices[f"skill:{skill.pk}"] = carryback.KEEP
    with pytest.raises(carryback.CarryBackError, match="Storm Line"):
        carry(on_bcp, choices=choices, found=found)
    assert not Disposition.objects.filter(tenant_id=on_bcp.primary_id, name="Storm call").exists()


def test_a_crash_between_the_primarys_commit_and_the_correlations_is_repaired_by_the_next_run(
        on_bcp, settings, monkeypatch):
    actor = Actor.system()
    tag = cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=actor)
    settings.SYNC_FAILPOINTS = True
    monkeypatch.setenv("BCP_SYNC_RAISE_AT", "carryback:between")
    from sync.engine import SyncCrash

    with pytest.raises(SyncCrash):
        carry(on_bcp)
    monkeypatch.delenv("BCP_SYNC_RAISE_AT")
    assert original(Tag, on_bcp, "Storm")
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.PENDING
    assert not Correlation.objects.filter(mapping=on_bcp, entity_type="tag", target_id=tag.pk).exists()
    # The next forward run finishes it: no second copy on the BCP tenant, no second record on the primary.
    switch(on_bcp, PRIMARY)
    run = run_sync(on_bcp.primary)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.DONE
    assert Tag.objects.filter(tenant_id=on_bcp.secondary_id, name="Storm").count() == 1
    assert Tag.objects.filter(tenant_id=on_bcp.primary_id, name="Storm").count() == 1
    assert run.totals["created"] == 0


def test_a_crash_before_the_primarys_commit_is_dropped_by_the_next_listing(on_bcp, settings, monkeypatch):
    tag = cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=Actor.system())
    found = changes(on_bcp)
    CarryBack.objects.create(mapping=on_bcp, items=[f"tag:{tag.pk}"])  # as a crash after step 1 leaves it
    again = changes(on_bcp)
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.DROPPED
    assert [item.name for item in again.items] == ["Storm"] and again.token == found.token


def test_a_crash_before_the_primarys_commit_leaves_nothing_and_the_record_is_offered_again(
        on_bcp, settings, monkeypatch):
    tag = cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=Actor.system())
    settings.SYNC_FAILPOINTS = True
    monkeypatch.setenv("BCP_SYNC_RAISE_AT", "carryback:primary")
    from sync.engine import SyncCrash

    with pytest.raises(SyncCrash):
        carry(on_bcp)
    monkeypatch.delenv("BCP_SYNC_RAISE_AT")
    assert not Tag.objects.filter(tenant_id=on_bcp.primary_id, name="Storm").exists()
    assert not audit_events().filter(action="sync.carried_back").exists()
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.PENDING
    # The next listing drops it and offers the record again; carrying it back then works once.
    assert [item.key for item in changes(on_bcp).items] == [f"tag:{tag.pk}"]
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.DROPPED
    carry(on_bcp)
    assert Tag.objects.filter(tenant_id=on_bcp.primary_id, name="Storm").count() == 1


def test_a_deletion_the_primary_still_needs_is_refused_by_name_and_nothing_is_carried_back(on_bcp):
    actor = Actor.system()
    cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=actor)
    # On the BCP tenant the point of contact went first, then its skill; only the skill's deletion is carried back.
    cc.point_of_contact_delete(point_of_contact=copy_of(PointOfContact, on_bcp, "Billing Line"), actor=actor)
    cc.skill_delete(skill=copy_of(Skill, on_bcp, "Billing Inquiries"), actor=actor)
    found = changes(on_bcp)
    choices = {item.key: carryback.KEEP if item.name == "Billing Line" else carryback.CARRY for item in found.items}
    with pytest.raises(carryback.CarryBackError, match="Billing Line"):
        carry(on_bcp, choices=choices, found=found)
    assert original(Skill, on_bcp, "Billing Inquiries") and not Tag.objects.filter(
        tenant_id=on_bcp.primary_id, name="Storm").exists()
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.DROPPED


def test_what_cannot_be_carried_back_says_why(on_bcp):
    actor = Actor.system()
    # A skill the BCP tenant had of its own before the switch, used by a point of contact created during it.
    own = Skill.objects.create(tenant_id=on_bcp.secondary_id, name="Local Line", channel="phone")
    before = on_bcp.active_since.replace(year=2020)
    Skill.objects.filter(tenant_id=on_bcp.secondary_id, pk=own.pk).update(created_at=before)
    cc.point_of_contact_create(tenant=on_bcp.secondary, name="Local Hotline", channel="phone",
                               address="+14155550177", skill=own,
                               hours=copy_of(PointOfContact, on_bcp, "Billing Line").hours, actor=actor)
    # A copy edited here whose record the primary deleted meanwhile.
    cc.tag_update(tag=copy_of(Tag, on_bcp, "VIP"), name="VIP", description="Very", actor=actor)
    cc.tag_delete(tag=original(Tag, on_bcp, "VIP"), actor=actor)
    found = by_name(changes(on_bcp))
    assert set(found) == {"Local Hotline", "VIP"}
    assert "Local Line" in found["Local Hotline"].blocked
    assert found["VIP"].primary_state == "deleted" and "deleted it meanwhile" in found["VIP"].blocked
    with pytest.raises(carryback.CarryBackError, match="cannot be carried back"):
        carry(on_bcp)


def test_with_the_primarys_region_down_the_switch_back_waits_and_with_the_backups_it_goes_on(on_bcp):
    from bcp_project.regions import health

    cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=Actor.system())
    health.mark_down("na", "OperationalError: connection refused")
    assert changes(on_bcp).primary_unavailable
    with pytest.raises(services.SwitchRefused, match="waits until it answers"):
        switch(on_bcp, PRIMARY)
    assert on_bcp.active_side == BCP
    health.mark_up("na")
    health.mark_down("eu", "OperationalError: connection refused")
    found = changes(on_bcp)
    assert found.unavailable == "eu" and not found.primary_unavailable
    switch(on_bcp, PRIMARY)
    assert on_bcp.active_side == PRIMARY


def test_an_edited_record_says_what_differs_with_links_by_name(on_bcp):
    bcp = on_bcp.secondary_id
    PointOfContact.objects.filter(tenant_id=bcp, name="Billing Line").update(
        skill=Skill.objects.get(tenant_id=bcp, name="Web Chat"), address="+14155550199")
    line = by_name(changes(on_bcp))["Billing Line"]
    assert line.kind == "edited" and not line.conflict
    assert sorted(line.differences) == [("Address", "+14155550199", "+14155550100"),
                                        ("Skill", "Web Chat", "Billing Inquiries")]
