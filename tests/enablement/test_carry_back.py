"""Nothing lost on the way home: what the BCP tenant changed while it was active, carried back to the primary or
left to the primary's version, before the switch back (sync/carryback.py, enablement.services.tenant_switch)."""

import pytest

from accounts.models import User
from accounts.roles import AGENT, SUPERVISOR, VIEW_BCP_ENABLEMENT
from accounts.services import role_delete, role_permissions, role_set_permissions, user_create, user_set_password
from audit.services import Actor
from contactcenter import services as cc
from contactcenter.models import AgentProfile, Deletion, Disposition, PointOfContact, Skill, Tag, Team
from enablement import services
from enablement.missing_accounts.services import accounts_give
from sync import carryback
from sync.engine import SyncCrash
from sync.models import CarryBack, Correlation, SyncRun
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.enablement.conftest import PASSKEY, run_sync
from tests.factories import PASSWORD, role_of

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


def carry_crashing_at(point, mapping, settings, monkeypatch):
    """carry(mapping), stopped at the failpoint `point` as if its worker had been killed there."""
    settings.SYNC_FAILPOINTS = True
    monkeypatch.setenv("BCP_SYNC_RAISE_AT", point)
    with pytest.raises(SyncCrash):
        carry(mapping)
    monkeypatch.delenv("BCP_SYNC_RAISE_AT")


def test_a_crash_between_the_primarys_commit_and_the_correlations_is_repaired_by_the_next_run(
        on_bcp, settings, monkeypatch):
    actor = Actor.system()
    tag = cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=actor)
    carry_crashing_at("carryback:between", on_bcp, settings, monkeypatch)
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
    carry_crashing_at("carryback:primary", on_bcp, settings, monkeypatch)
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


# --- people and roles: in the control plane, carried back like the rest -----------------------------------------

NEW_PASSWORD = "Storm-night-2026"


def account(mapping, username, *, primary=False):
    """The person's account on the BCP tenant, or with `primary` the person on the primary."""
    tenant_id = mapping.primary_id if primary else mapping.secondary_id
    return User.objects.get(tenant_id=tenant_id, username=username)


def edit_agent(user, **changes):
    """Admin → Users on the account's tenant: cc.agent_update with the account's values, `changes` over them."""
    profile = AgentProfile.objects.filter(tenant_id=user.tenant_id, user_id=user.pk).first()
    values = {"username": user.username, "role": user.role, "first_name": user.first_name,
              "last_name": user.last_name, "email": user.email, "team": profile.team if profile else None,
              "active": user.is_active}
    return cc.agent_update(user=user, **{**values, **changes}, actor=Actor.system())


def nothing_written_by_the_next_run(mapping):
    switch(mapping, PRIMARY)
    run = run_sync(mapping.primary)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert (run.totals["created"], run.totals["updated"], run.totals["deleted"]) == (0, 0, 0), run.counts


def test_a_password_and_a_role_changed_on_a_copy_are_listed_without_showing_the_password(on_bcp):
    andy = account(on_bcp, "andy")
    edit_agent(andy, role=role_of(on_bcp.secondary, SUPERVISOR), password=NEW_PASSWORD)
    item = by_name(changes(on_bcp))["andy"]
    assert (item.kind, item.primary_state, item.conflict) == ("edited", "unchanged", False)
    assert sorted(item.differences) == [("Password", "different (not shown)", "different (not shown)"),
                                        ("Role", "Supervisor", "Agent")]
    for secret in (account(on_bcp, "andy").password, account(on_bcp, "andy", primary=True).password):
        assert secret not in repr(item.differences)


def test_a_password_and_a_role_carried_back_are_the_persons_on_the_primary(on_bcp):
    edit_agent(account(on_bcp, "andy"), role=role_of(on_bcp.secondary, SUPERVISOR), password=NEW_PASSWORD)
    result = carry(on_bcp)
    assert [item.name for item in result.carried] == ["andy"]
    andy = account(on_bcp, "andy", primary=True)
    assert andy.check_password(NEW_PASSWORD) and not andy.check_password(PASSWORD)
    assert andy.role == role_of(on_bcp.primary, SUPERVISOR) and not andy.is_bcp_copy  # the primary's role
    # Audited where each part was written: the account in the control plane, its agent settings in the region.
    events = audit_events().filter(action="sync.carried_back")
    assert sorted(event.changes.get("part", "") for event in events) == ["", "region"]
    assert {event.actor for event in events} == {alice()}
    assert changes(on_bcp).items == []
    nothing_written_by_the_next_run(on_bcp)
    assert account(on_bcp, "andy").check_password(NEW_PASSWORD)


def test_a_password_left_to_the_primarys_version_is_overwritten_by_the_next_run(on_bcp):
    edit_agent(account(on_bcp, "andy"), password=NEW_PASSWORD)
    found = changes(on_bcp)
    result = switch(on_bcp, PRIMARY, choices=choose_all(found, carryback.KEEP), changes_token=found.token)
    assert [item.name for item in result.kept] == ["andy"]
    run = run_sync(on_bcp.primary)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert account(on_bcp, "andy").check_password(PASSWORD) and not account(on_bcp, "andy").check_password(
        NEW_PASSWORD)
    assert account(on_bcp, "andy", primary=True).check_password(PASSWORD)


def test_a_password_changed_on_both_sides_is_a_conflict_that_needs_a_choice(on_bcp):
    edit_agent(account(on_bcp, "andy"), password=NEW_PASSWORD)
    user_set_password(user=account(on_bcp, "andy", primary=True), password="Primary-side-9", actor=Actor.system())
    found = changes(on_bcp)
    item = by_name(found)["andy"]
    assert item.conflict and item.primary_state == "changed"
    with pytest.raises(carryback.CarryBackError, match="“andy” was changed on both sides"):
        carryback.carry_back(mapping=on_bcp, choices={}, token=found.token, actor=Actor(user=alice()))
    assert account(on_bcp, "andy", primary=True).check_password("Primary-side-9")
    carry(on_bcp, choices={item.key: carryback.CARRY}, found=found)
    assert account(on_bcp, "andy", primary=True).check_password(NEW_PASSWORD)


def test_a_role_whose_permissions_changed_there_names_them_and_is_carried_back(on_bcp):
    role_set_permissions(role=role_of(on_bcp.secondary, SUPERVISOR), permissions=[VIEW_BCP_ENABLEMENT],
                         scope=[VIEW_BCP_ENABLEMENT], actor=Actor.system())
    item = by_name(changes(on_bcp))["Supervisor"]
    assert (item.kind, item.primary_state) == ("edited", "unchanged")
    assert item.differences == [("Permissions", "only here: BCP Tenant Enablement: View", "—")]
    carry(on_bcp)
    assert VIEW_BCP_ENABLEMENT in role_permissions(role=role_of(on_bcp.primary, SUPERVISOR))
    nothing_written_by_the_next_run(on_bcp)


def test_a_person_created_there_is_carried_back_with_links_remapped_and_becomes_one_with_the_account(on_bcp):
    bcp, actor = on_bcp.secondary, Actor.system()
    night = cc.team_create(tenant=bcp, name="Night Shift", actor=actor)
    stormy = cc.agent_create(tenant=bcp, username="stormy", password=NEW_PASSWORD, role=role_of(bcp, AGENT),
                             first_name="Stormy", team=night, skills={copy_of(Skill, on_bcp, "Web Chat"): 4},
                             actor=actor)
    item = by_name(changes(on_bcp))["stormy"]
    assert (item.kind, item.needs) == ("created", [f"team:{night.pk}"])
    carry(on_bcp)
    person = account(on_bcp, "stormy", primary=True)
    assert not person.is_bcp_copy and person.check_password(NEW_PASSWORD) and person.first_name == "Stormy"
    assert person.role == role_of(on_bcp.primary, AGENT)
    profile = AgentProfile.objects.get(tenant_id=on_bcp.primary_id, user_id=person.pk)
    assert profile.team == original(Team, on_bcp, "Night Shift")
    assert list(profile.assignments.values_list("skill__name", "proficiency")) == [("Web Chat", 4)]
    # The account there is that person's copy now: one username, one person; and one record for the sync.
    assert User.objects.get(pk=stormy.pk).is_bcp_copy
    assert Correlation.objects.get(mapping=on_bcp, entity_type="user", source_id=person.pk).target_id == stormy.pk
    nothing_written_by_the_next_run(on_bcp)
    assert User.objects.filter(username="stormy").count() == 2


def test_an_account_given_there_to_a_person_of_the_primary_is_not_listed(synced):
    nina = cc.agent_create(tenant=synced.primary, username="nina", password=PASSWORD,
                           role=role_of(synced.primary, AGENT), actor=Actor.system())
    switch(synced, BCP, force=True, reason="North America is down")
    outcome = accounts_give(mapping=synced, person_ids=[nina.pk], actor=Actor(user=alice()))
    assert outcome.given == [nina]
    assert changes(synced).items == []
    # Nor when a crash lost its correlation: the account is a copy of that person, which the next run adopts.
    Correlation.objects.filter(mapping=synced, entity_type="user", source_id=nina.pk).delete()
    assert changes(synced).items == []


def test_a_username_someone_else_took_meanwhile_is_refused_by_name(on_bcp, other_tenant):
    edit_agent(account(on_bcp, "andy"), username="robert")
    edit_agent(account(on_bcp, "sam"), username="sammy")
    # Meanwhile the primary gave "Robert" to someone, and another tenant "sammy" (the BCP tenant's are copies).
    cc.agent_create(tenant=on_bcp.primary, username="Robert", password=PASSWORD,
                    role=role_of(on_bcp.primary, AGENT), actor=Actor.system())
    user_create(username="sammy", password=PASSWORD, tenant=other_tenant, actor=Actor.system())
    found = by_name(changes(on_bcp))
    assert found["robert"].blocked == "The primary has another record with this name."
    assert "Someone else on the platform has the username “sammy”" in found["sammy"].blocked
    with pytest.raises(carryback.CarryBackError, match="“robert” cannot be carried back"):
        carry(on_bcp)
    assert account(on_bcp, "andy", primary=True) and account(on_bcp, "sam", primary=True)


def test_a_crash_after_a_person_reached_the_primary_is_finished_by_the_next_listing(on_bcp, settings, monkeypatch):
    edit_agent(account(on_bcp, "andy"), password=NEW_PASSWORD)
    carry_crashing_at("carryback:between", on_bcp, settings, monkeypatch)
    assert account(on_bcp, "andy", primary=True).check_password(NEW_PASSWORD)
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.PENDING
    # The listing writes the correlation from the audit rows: andy is one record again, and nothing is offered.
    assert changes(on_bcp).items == []
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.DONE
    nothing_written_by_the_next_run(on_bcp)
    assert account(on_bcp, "andy").check_password(NEW_PASSWORD)


def dangling_agent_settings(mapping):
    people = User.objects.filter(tenant_id=mapping.primary_id).values_list("pk", flat=True)
    return AgentProfile.objects.filter(tenant_id=mapping.primary_id).exclude(user_id__in=list(people)).count()


def test_a_crash_between_the_regions_commit_and_the_control_planes_offers_the_people_again(
        on_bcp, settings, monkeypatch):
    bcp, actor = on_bcp.secondary, Actor.system()
    edit_agent(account(on_bcp, "andy"), password=NEW_PASSWORD, skills={copy_of(Skill, on_bcp, "Web Chat"): 2})
    cc.agent_create(tenant=bcp, username="stormy", password=NEW_PASSWORD, role=role_of(bcp, AGENT),
                    team=copy_of(Team, on_bcp, "Sales"), actor=actor)
    cc.team_update(team=copy_of(Team, on_bcp, "Sales"), name="Sales", description="Night shift", actor=actor)
    carry_crashing_at("carryback:control", on_bcp, settings, monkeypatch)
    # The region committed (the team, the agent settings), the control plane not (the password, the person).
    assert original(Team, on_bcp, "Sales").description == "Night shift"
    assert account(on_bcp, "andy", primary=True).check_password(PASSWORD)
    assert not User.objects.filter(tenant_id=on_bcp.primary_id, username="stormy").exists()
    assert dangling_agent_settings(on_bcp) == 1  # stormy's, for a person the control plane never got
    found = by_name(changes(on_bcp))
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.DONE
    assert dangling_agent_settings(on_bcp) == 0
    # The team is one record again; the people are offered again, andy with only what is still missing.
    assert set(found) == {"andy", "stormy"} and found["stormy"].kind == "created"
    assert (found["andy"].kind, found["andy"].primary_state) == ("edited", "unchanged")
    assert [label for label, *_values in found["andy"].differences] == ["Password"]
    carry(on_bcp)
    assert account(on_bcp, "andy", primary=True).check_password(NEW_PASSWORD)
    assert account(on_bcp, "stormy", primary=True).check_password(NEW_PASSWORD)
    nothing_written_by_the_next_run(on_bcp)


def test_a_crash_before_any_commit_of_a_person_leaves_nothing_and_offers_it_again(on_bcp, settings, monkeypatch):
    stormy = cc.agent_create(tenant=on_bcp.secondary, username="stormy", password=NEW_PASSWORD,
                             role=role_of(on_bcp.secondary, AGENT), actor=Actor.system())
    carry_crashing_at("carryback:primary", on_bcp, settings, monkeypatch)
    assert not User.objects.filter(tenant_id=on_bcp.primary_id, username="stormy").exists()
    assert not User.objects.get(pk=stormy.pk).is_bcp_copy and dangling_agent_settings(on_bcp) == 0
    assert [item.key for item in changes(on_bcp).items] == [f"user:{stormy.pk}"]
    assert CarryBack.objects.get(mapping=on_bcp).status == CarryBack.Status.DROPPED


def test_child_rows_that_differ_are_named_a_few_then_counted(on_bcp):
    bcp, actor = on_bcp.secondary, Actor.system()
    skills = [cc.skill_create(tenant=bcp, name=f"Storm {index}", channel="phone", actor=actor) for index in range(7)]
    resolved = copy_of(Disposition, on_bcp, "Resolved")
    cc.disposition_update(disposition=resolved, name="Resolved", classification=resolved.classification,
                          skills=skills, actor=actor)
    item = by_name(changes(on_bcp))["Resolved"]
    assert item.differences == [("Skills", "only here: Storm 0, Storm 1, Storm 2, Storm 3, Storm 4 and 2 more",
                                 "only here: Billing Inquiries, Web Chat")]
    edit_agent(account(on_bcp, "andy"), skills={copy_of(Skill, on_bcp, "Web Chat"): 2})
    andy = by_name(changes(on_bcp))["andy"]
    assert andy.differences == [("Skill assignments", "only here: Web Chat (proficiency: 2)",
                                 "only here: Billing Inquiries (proficiency: 1), Web Chat (proficiency: 5)")]


def test_a_person_deleted_there_is_deleted_on_the_primary_with_their_agent_settings(on_bcp):
    cc.agent_delete(user=account(on_bcp, "andy"), actor=Actor(user=alice()))
    item = by_name(changes(on_bcp))["andy"]
    assert (item.kind, item.primary_state) == ("deleted", "unchanged")
    andy = account(on_bcp, "andy", primary=True)
    carry(on_bcp)
    assert not User.objects.filter(pk=andy.pk).exists()
    assert not AgentProfile.objects.filter(tenant_id=on_bcp.primary_id, user_id=andy.pk).exists()
    nothing_written_by_the_next_run(on_bcp)
    assert not User.objects.filter(username="andy").exists()


def test_a_role_deleted_there_that_the_primary_still_gives_someone_is_refused_by_name(on_bcp):
    edit_agent(account(on_bcp, "sam"), role=role_of(on_bcp.secondary, AGENT))
    role_delete(role=role_of(on_bcp.secondary, SUPERVISOR), actor=Actor.system())
    found = changes(on_bcp)
    choices = {item.key: carryback.KEEP if item.name == "sam" else carryback.CARRY for item in found.items}
    with pytest.raises(carryback.CarryBackError, match="still used on the primary by sam"):
        carry(on_bcp, choices=choices, found=found)
    assert role_of(on_bcp.primary, SUPERVISOR) and CarryBack.objects.get(mapping=on_bcp).status == "dropped"
    # Carried back with sam's new role, it goes.
    carry(on_bcp)
    assert not on_bcp.primary.roles.filter(name=SUPERVISOR).exists()
    assert account(on_bcp, "sam", primary=True).role == role_of(on_bcp.primary, AGENT)
    nothing_written_by_the_next_run(on_bcp)
