"""One login URL: a username names one person; the sync's copies never take a sign-in from the primary."""

import pytest

from accounts.models import User
from audit.services import Actor
from bcp_project.exceptions import ApplicationError
from contactcenter import services as cc
from tests.factories import PASSWORD, role_of
from tests.sync.conftest import run_sync


def signed_in(client):
    from django.contrib.auth import get_user

    user = get_user(client)
    return user if user.is_authenticated else None


def test_a_copied_user_signs_in_to_the_primary_while_it_is_active(client, configured, bcp_tenant):
    run_sync(configured)
    copy = User.objects.get(tenant=bcp_tenant, username="andy")
    assert copy.password == User.objects.get(tenant=configured, username="andy").password
    response = client.post("/sign-in/", {"username": "Andy", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in(client).tenant_id == configured.pk


def test_a_username_taken_on_another_tenant_is_refused_and_nothing_is_saved(configured, other_tenant):
    before = User.objects.count()
    with pytest.raises(ApplicationError, match="already taken") as error:
        cc.agent_create(tenant=other_tenant, username="ANDY", password=PASSWORD,
                        role=role_of(other_tenant, "Agent"), actor=Actor.system())
    assert error.value.field == "username"
    assert User.objects.count() == before


def test_renaming_a_user_to_a_username_taken_elsewhere_is_refused(configured, other_tenant):
    nora = cc.agent_create(tenant=other_tenant, username="nora", password=PASSWORD,
                           role=role_of(other_tenant, "Agent"), actor=Actor.system())
    with pytest.raises(ApplicationError, match="already taken"):
        cc.agent_update(user=nora, username="sam", role=nora.role, actor=Actor.system())
    nora.refresh_from_db()
    assert nora.username == "nora"


def test_an_administrator_of_the_bcp_tenant_may_edit_a_copy_that_keeps_its_username(configured, bcp_tenant):
    # During an emergency the copy is the person's account: its password or role may change there, and the
    # username it shares with the person it copies is not "taken" (renaming it to another person's still is).
    run_sync(configured)
    copy = User.objects.get(tenant=bcp_tenant, username="andy")
    cc.agent_update(user=copy, username="Andy", role=role_of(bcp_tenant, "Supervisor"), password="Night-2026-x",
                    actor=Actor.system())
    copy.refresh_from_db()
    assert copy.role.name == "Supervisor" and copy.check_password("Night-2026-x")
    with pytest.raises(ApplicationError, match="already taken"):
        cc.agent_update(user=copy, username="sam", role=copy.role, actor=Actor.system())


def test_the_csv_import_refuses_a_username_taken_on_another_tenant(configured, other_tenant):
    from contactcenter.user_import.services import ImportRow, check_rows

    row = ImportRow(line=2, values={"username": "alice", "role": "Agent"})
    check = check_rows(tenant=other_tenant, rows=[row])
    assert "The username “alice” is already taken on the platform." in check.rows[0].errors
