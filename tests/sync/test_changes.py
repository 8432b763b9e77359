"""Changes after the first run: updates, renames and swaps, deletions, records of the BCP tenant's own."""

from datetime import time

import pytest

from accounts.models import User
from audit.services import Actor
from contactcenter import services as cc
from contactcenter.models import AgentProfile, HoursOfOperation, PointOfContact, Skill, Tag, Team
from sync.models import Correlation, SyncRun
from tests.queries import CaptureQueriesEverywhere
from tests.sync.conftest import run_sync


@pytest.fixture
def synced(configured):
    assert run_sync(configured).status == SyncRun.Status.SUCCEEDED
    return configured


def bcp(model, bcp_tenant, **lookup):
    return model.objects.get(tenant=bcp_tenant, **lookup)


def test_a_change_reaches_the_copy_and_nothing_else_is_written(synced, bcp_tenant):
    tag = Tag.objects.get(tenant=synced, name="VIP")
    cc.tag_update(tag=tag, name="VIP", description="Top customer", actor=Actor.system())
    run = run_sync(synced)
    assert bcp(Tag, bcp_tenant, name="VIP").description == "Top customer"
    assert run.counts["tag"]["updated"] == 1 and run.totals["updated"] == 1


def test_a_rename_keeps_the_link(synced, bcp_tenant, mapping):
    skill = Skill.objects.get(tenant=synced, name="Billing Inquiries")
    copy_id = bcp(Skill, bcp_tenant, name="Billing Inquiries").pk
    cc.skill_update(skill=skill, name="Billing", channel="phone", direction="inbound", actor=Actor.system())
    run_sync(synced)
    assert bcp(Skill, bcp_tenant, name="Billing").pk == copy_id
    assert bcp(PointOfContact, bcp_tenant, name="Billing Line").skill_id == copy_id


def test_two_records_swapping_names_swap_on_the_bcp_tenant(synced, bcp_tenant):
    billing, sales = Team.objects.get(tenant=synced, name="Billing Support"), Team.objects.get(tenant=synced,
                                                                                              name="Sales")
    billing_copy = bcp(Team, bcp_tenant, name="Billing Support").pk
    cc.team_update(team=billing, name="Swap", actor=Actor.system())
    cc.team_update(team=sales, name="Billing Support", actor=Actor.system())
    cc.team_update(team=billing, name="Sales", actor=Actor.system())
    run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert bcp(Team, bcp_tenant, name="Sales").pk == billing_copy
    assert bcp(AgentProfile, bcp_tenant, user=User.objects.get(tenant=bcp_tenant, username="andy")).team.name == "Sales"


def test_usernames_and_addresses_can_swap_too(synced, bcp_tenant):
    line = PointOfContact.objects.get(tenant=synced, name="Billing Line")
    cc.point_of_contact_create(tenant=synced, name="Spare Line", channel="phone", address="+14155550199",
                               skill=line.skill, hours=line.hours, actor=Actor.system())
    spare = PointOfContact.objects.get(tenant=synced, name="Spare Line")
    run_sync(synced)
    for poc, address in ((line, "+14155550000"), (spare, "+14155550100"), (line, "+14155550199")):
        cc.point_of_contact_update(point_of_contact=poc, name=poc.name, channel="phone", address=address,
                                   skill=poc.skill, hours=poc.hours, actor=Actor.system())
    run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert bcp(PointOfContact, bcp_tenant, name="Spare Line").address == "+14155550100"
    assert bcp(PointOfContact, bcp_tenant, name="Billing Line").address == "+14155550199"


def test_deletions_reach_the_bcp_tenant_in_dependency_order(synced, bcp_tenant, mapping):
    cc.point_of_contact_delete(point_of_contact=PointOfContact.objects.get(tenant=synced, name="Website Chat"),
                               actor=Actor.system())
    cc.skill_delete(skill=Skill.objects.get(tenant=synced, name="Web Chat"), actor=Actor.system())
    cc.agent_delete(user=User.objects.get(tenant=synced, username="sam"), actor=Actor.system())
    run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert not Skill.objects.filter(tenant=bcp_tenant, name="Web Chat").exists()
    assert not PointOfContact.objects.filter(tenant=bcp_tenant, name="Website Chat").exists()
    assert not User.objects.filter(tenant=bcp_tenant, username="sam").exists()
    assert run.counts["skill"]["deleted"] == run.counts["point_of_contact"]["deleted"] == 1
    # No orphan correlation is left.
    for key, model in (("skill", Skill), ("point_of_contact", PointOfContact), ("user", User)):
        targets = set(Correlation.objects.filter(mapping=mapping, entity_type=key).values_list("target_id", flat=True))
        assert targets == set(model.objects.filter(tenant=bcp_tenant, pk__in=targets).values_list("pk", flat=True))


def test_a_deleted_and_recreated_name_is_copied_again(synced, bcp_tenant):
    cc.tag_delete(tag=Tag.objects.get(tenant=synced, name="VIP"), actor=Actor.system())
    cc.tag_create(tenant=synced, name="VIP", description="again", actor=Actor.system())
    run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert bcp(Tag, bcp_tenant, name="VIP").description == "again"


def test_child_rows_travel_with_their_parent(synced, bcp_tenant):
    hours = HoursOfOperation.objects.get(tenant=synced, name="Weekend")
    cc.hours_update(hours=hours, name="Weekend", timezone="UTC",
                    week={d: (time(8), time(12)) if d >= 5 else None for d in range(7)}, exceptions=[],
                    actor=Actor.system())
    andy = User.objects.get(tenant=synced, username="andy")
    cc.agent_update(user=andy, username="andy", role=andy.role, team=None, skills={}, actor=Actor.system())
    run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    days = bcp(HoursOfOperation, bcp_tenant, name="Weekend").days.filter(closed=False)
    assert sorted((d.day, d.opens_at) for d in days) == [(5, time(8)), (6, time(8))]
    profile = bcp(AgentProfile, bcp_tenant, user=User.objects.get(tenant=bcp_tenant, username="andy"))
    assert profile.team is None and profile.assignments.count() == 0


def test_changes_made_on_the_bcp_tenant_to_copies_are_overwritten(synced, bcp_tenant):
    Tag.objects.filter(tenant=bcp_tenant, name="VIP").update(description="edited on the backup")
    run = run_sync(synced)
    assert bcp(Tag, bcp_tenant, name="VIP").description == "Important customer"
    assert run.counts["tag"]["updated"] == 1


def test_an_update_writes_the_columns_that_differ_and_every_copy_ends_whole(synced, bcp_tenant):
    """Each record's own change reaches its copy, and a copy changed on the BCP tenant in another column is put
    back too, while a column no copy differs in is not written at all."""
    alice = User.objects.get(tenant=synced, username="alice")
    User.objects.filter(pk=alice.pk).update(first_name="Alicia")
    sam = User.objects.get(tenant=synced, username="sam")
    User.objects.filter(pk=sam.pk).update(last_name="Supervisor-Smith")
    User.objects.filter(tenant=bcp_tenant, username="andy").update(email="changed@backup.example.com")
    with CaptureQueriesEverywhere() as queries:
        run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.counts["user"]["updated"] == 3
    for username in ("alice", "sam", "andy"):
        source = User.objects.get(tenant=synced, username=username)
        copy = User.objects.get(tenant=bcp_tenant, username=username)
        assert (copy.first_name, copy.last_name, copy.email, copy.password) == (
            source.first_name, source.last_name, source.email, source.password)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "accounts_user"')]
    assert updates and all('"password"' not in statement and '"username"' not in statement for statement in updates)
    assert any('"first_name"' in s and '"last_name"' in s and '"email"' in s for s in updates)


def test_records_made_on_the_bcp_tenant_are_left_alone(synced, bcp_tenant):
    own = cc.tag_create(tenant=bcp_tenant, name="Backup only", actor=Actor.system())
    cc.team_create(tenant=bcp_tenant, name="Night Shift", actor=Actor.system())
    for _ in range(2):
        assert run_sync(synced).status == SyncRun.Status.SUCCEEDED
    own.refresh_from_db()
    assert own.name == "Backup only"
    assert Team.objects.filter(tenant=bcp_tenant, name="Night Shift").exists()


def test_a_name_taken_by_a_bcp_record_fails_that_record_by_name(synced, bcp_tenant):
    cc.tag_create(tenant=bcp_tenant, name="Escalated", description="made on the backup", actor=Actor.system())
    cc.tag_create(tenant=synced, name="Escalated", actor=Actor.system())
    run = run_sync(synced)
    assert run.status == SyncRun.Status.FAILED
    assert run.counts["tag"]["failed"] == 1
    from sync.messages import error_text

    assert any("“Escalated” was not copied" in error_text(error) for error in run.errors)
    assert bcp(Tag, bcp_tenant, name="Escalated").description == "made on the backup"


def test_a_record_deleted_on_the_bcp_tenant_is_copied_again(synced, bcp_tenant, mapping):
    Tag.objects.filter(tenant=bcp_tenant, name="VIP").delete()
    run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert bcp(Tag, bcp_tenant, name="VIP")
    assert Correlation.objects.filter(mapping=mapping, entity_type="tag").count() == 1


def test_the_copies_keep_their_username_keys_through_renames_and_look_alike_swaps(synced, bcp_tenant):
    """The copies' key column (what the unique constraints hold) is written with every username the sync writes,
    and two people trading names that differ only in width or case swap on the BCP tenant too."""
    from accounts.models import username_key

    andy, sam = User.objects.get(tenant=synced, username="andy"), User.objects.get(tenant=synced, username="sam")
    andy_copy = bcp(User, bcp_tenant, username="andy").pk
    for user, name in ((andy, "andy.tmp"), (sam, "ＡＮＤＹ"), (andy, "sam")):
        cc.agent_update(user=user, username=name, role=user.role, actor=Actor.system())
    run = run_sync(synced)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert bcp(User, bcp_tenant, username="sam").pk == andy_copy
    copies = User.objects.filter(tenant=bcp_tenant).values_list("username", "username_key")
    assert sorted(copies) == sorted((name, username_key(name)) for name, _key in copies)
    assert {key for _name, key in copies} >= {"andy", "sam", "alice"}
