"""Nobody locked out (issue 18): on the active BCP tenant an administrator sees the people of the primary who have
no account there, by name, and gives each one (or all) an account in one confirmed action: same username and
password, the role of the same name, the agent settings as far as the BCP tenant has them; audited. The primary's
region may be down. The next forward sync after switching back takes these accounts as its own."""

import pytest
from django.urls import reverse

from accounts.models import Role, User
from accounts.roles import ADMINISTRATOR, AGENT, CHANGE_BCP_ENABLEMENT, SUPERVISOR, VIEW_BCP_ENABLEMENT
from accounts.services import role_create, role_set_permissions
from audit.services import Actor
from bcp_project.regions import health
from contactcenter import services as cc
from contactcenter.models import AgentProfile, Skill, Team
from enablement import services
from sync.models import Correlation
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.enablement.conftest import PASSKEY
from tests.factories import PASSWORD, role_of
from tests.permissions import FORBIDDEN, GET, NOT_FOUND, OK, POST, REDIRECT, Row, answers, ask, cases
from tests.queries import CaptureQueriesEverywhere
from tests.sync.conftest import run_sync

BCP, PRIMARY = BcpMapping.Side.SECONDARY, BcpMapping.Side.PRIMARY
LIST, GIVE = "enablement:accounts", "enablement:accounts_give"
SCOPE = [VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT]

# On the primary (the personas' own tenant, paired and not switched: test_pages.py's roles), the page says where
# accounts are given and a POST is refused; the BCP side's answers, for each role there, are tested below.
# anonymous, agent, supervisor (View), tenant_admin (Edit), other_admin (Edit, unpaired), rep.
URLS = [
    Row(LIST, GET, answers(REDIRECT, NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND)),
    Row(GIVE, GET, answers(REDIRECT, NOT_FOUND, FORBIDDEN, 409, NOT_FOUND, NOT_FOUND), data={"all": "1"}),
    Row(GIVE, POST, answers(REDIRECT, NOT_FOUND, FORBIDDEN, 409, NOT_FOUND, NOT_FOUND), data={"person": "1"}),
]


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_url_for_every_persona_on_the_primary(as_persona, paired, row, persona):
    before = User.objects.filter(is_bcp_copy=True).count()
    ask(as_persona(persona), row, persona)
    assert User.objects.filter(is_bcp_copy=True).count() == before


@pytest.fixture
def paired(mapping, tenant, other_tenant):
    """tests/enablement/test_pages.py's roles: the administrators hold Edit, the supervisor View."""
    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(tenant, SUPERVISOR), permissions=[VIEW_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(other_tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT],
                         scope=SCOPE, actor=Actor.system())
    return mapping


# --- the pair on its BCP tenant, with a person made after the last sync ----------------------------------------


@pytest.fixture
def nina(configured, synced):
    """Made on the primary after the last sync, in a team the BCP tenant has, with one skill it has and one made
    after the sync too."""
    spanish = cc.skill_create(tenant=configured, name="Spanish", channel="phone", actor=Actor.system())
    billing = Skill.objects.get(tenant=configured, name="Billing Inquiries")
    return cc.agent_create(tenant=configured, username="nina", password="Nina-own-pass-7", first_name="Nina",
                           last_name="New", email="nina@classics.example.com", role=role_of(configured, AGENT),
                           team=Team.objects.get(tenant=configured, name="Billing Support"),
                           skills={billing: 2, spanish: 4}, actor=Actor.system())


def _switch(mapping, to_side, capture):
    alice = User.objects.get(username="alice", is_bcp_copy=False)
    with capture(execute=True):
        services.tenant_switch(mapping=mapping, to_side=to_side, passkey=PASSKEY, actor=Actor(user=alice),
                               force=True, reason="North America is down")
    mapping.refresh_from_db()


@pytest.fixture
def switched(synced, nina, django_capture_on_commit_callbacks):
    _switch(synced, BCP, django_capture_on_commit_callbacks)
    return synced


@pytest.fixture
def bcp_alice(client, switched):
    """Alice's account on the BCP tenant (her role there holds BCP Tenant Enablement Edit, copied by the sync)."""
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    return client


def _copy(username="nina"):
    return User.objects.filter(username=username, is_bcp_copy=True).first()


def _give(client, *people, follow=True):
    return client.post(reverse(GIVE), {"person": [person.pk for person in people]}, follow=follow)


def _sign_in(client, username="nina", password="Nina-own-pass-7"):
    client.logout()
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_the_bcp_administrator_sees_who_has_no_account_and_gives_one(bcp_alice, switched, nina, bcp_tenant):
    page = bcp_alice.get(reverse(LIST))
    assert page.status_code == 200
    assert "<title>People without an account · BC Enablement" in page.text
    assert "People without an account on “Classics Inc. BCP”" in page.text
    assert 'data-testid="missing-nina"' in page.text and "Nina New" in page.text and ">Agent" in page.text
    assert 'data-testid="missing-andy"' not in page.text  # copied by the sync

    confirm = bcp_alice.get(reverse(GIVE), {"person": nina.pk})
    assert confirm.status_code == 200
    # One person: "an account", in the title and the question.
    assert "<title>Give an account · BC Enablement" in confirm.text
    assert "Give an account on “Classics Inc. BCP”?" in confirm.text and "Billing Support" in confirm.text
    assert "Billing Inquiries (2)" in confirm.text and "1 not on the BCP tenant, left out" in confirm.text
    assert _copy() is None  # a GET changes nothing

    response = _give(bcp_alice, nina)
    assert response.redirect_chain[-1][0] == reverse(LIST)
    assert "Nina New can sign in now, with their usual username and password" in response.text
    assert "skill “Spanish” not on “Classics Inc. BCP”" in response.text
    assert 'data-testid="nobody-missing"' in response.text

    copy = _copy()
    assert copy.tenant == bcp_tenant and copy.password == nina.password and copy.email == nina.email
    assert copy.role == Role.objects.get(tenant=bcp_tenant, name=AGENT) and not copy.is_staff
    profile = AgentProfile.objects.using("eu").get(user_id=copy.pk)
    assert profile.team.name == "Billing Support" and profile.team.tenant_id == bcp_tenant.pk
    assert sorted(profile.assignments.values_list("skill__name", "proficiency")) == [("Billing Inquiries", 2)]
    assert Correlation.objects.get(mapping=switched, entity_type="user", source_id=nina.pk).target_id == copy.pk
    event = audit_events().get(action="user.bcp_account_give")
    assert event.actor_name == "alice" and event.tenant_id == bcp_tenant.pk and event.object_id == str(copy.pk)
    assert event.changes["role"] == AGENT and event.changes["agent_settings"] == "read from the primary"
    assert event.changes["left_out"] == ["skill Spanish"]

    # Nina signs in as usual and lands on the BCP tenant.
    assert _sign_in(bcp_alice).status_code == 302
    assert bcp_alice.session["_auth_user_id"] == str(copy.pk)


def test_give_all_names_everyone_on_the_confirmation_and_gives_each_an_account(bcp_alice, configured, nina):
    omar = cc.agent_create(tenant=configured, username="omar", password=PASSWORD, role=role_of(configured, AGENT),
                           actor=Actor.system())
    page = bcp_alice.get(reverse(LIST)).text
    assert "Give all 2 people an account…" in page
    confirm = bcp_alice.get(reverse(GIVE), {"all": "1"}).text
    assert confirm.count('name="person"') == 2 and "Give 2 accounts" in confirm
    assert "Give accounts on “Classics Inc. BCP”?" in confirm
    response = _give(bcp_alice, nina, omar)
    assert "Nina New, omar can sign in now" in response.text
    assert _copy("nina") and _copy("omar")
    assert audit_events().filter(action="user.bcp_account_give").count() == 2


def test_a_second_click_gives_nothing_twice(bcp_alice, nina):
    _give(bcp_alice, nina)
    response = _give(bcp_alice, nina)
    assert "had an account on “Classics Inc. BCP” already; it was left as it is" in response.text
    assert User.objects.filter(username="nina", is_bcp_copy=True).count() == 1
    assert audit_events().filter(action="user.bcp_account_give").count() == 1


def test_with_the_primarys_region_down_the_account_comes_from_the_control_plane(bcp_alice, nina, bcp_tenant):
    health.mark_down("na", "OperationalError: connection refused")
    page = bcp_alice.get(reverse(LIST)).text
    assert 'data-testid="primary-down"' in page and "The database of North America is not answering" in page
    assert "Not copied (the primary does not answer)" in bcp_alice.get(reverse(GIVE), {"person": nina.pk}).text

    response = _give(bcp_alice, nina)
    assert "Nina New can sign in now" in response.text
    assert "the team and skills of Nina New could not be copied. Set them under Admin → Users." in response.text
    copy = _copy()
    assert copy.password == nina.password and copy.role.name == AGENT and copy.first_name == "Nina"
    assert not AgentProfile.objects.using("eu").filter(user_id=copy.pk).exists()
    assert _sign_in(bcp_alice).status_code == 302
    health.mark_up("na")  # the audit log is read in every region
    event = audit_events().get(action="user.bcp_account_give")
    assert event.changes["agent_settings"] == "not read: North America did not answer"


def test_the_next_forward_sync_after_switching_back_takes_these_accounts_as_its_own(
        bcp_alice, configured, switched, nina, django_capture_on_commit_callbacks):
    health.mark_down("na", "test")
    _give(bcp_alice, nina)
    health.mark_up("na")
    copy = _copy()
    _switch(switched, PRIMARY, django_capture_on_commit_callbacks)
    # The primary changes Nina after she got her account.
    cc.agent_update(user=nina, username="nina", role=nina.role, first_name="Nina", last_name="Newer",
                    team=Team.objects.get(tenant=configured, name="Sales"), actor=Actor.system())

    run = run_sync(configured)
    assert run.status == "succeeded", run.errors
    assert run.counts["user"]["created"] == 0 and run.counts["user"]["updated"] == 1
    assert User.objects.filter(username="nina", is_bcp_copy=True).count() == 1
    copy.refresh_from_db()
    assert copy.last_name == "Newer"
    assert AgentProfile.objects.using("eu").get(user_id=copy.pk).team.name == "Sales"
    assert run_sync(configured).counts["user"]["updated"] == 0  # one record, nothing left to write


def test_a_crash_between_the_two_commits_is_repaired_by_the_next_click(bcp_alice, switched, nina, bcp_tenant):
    """The control plane commits first: a crash before the backup's region commits leaves the account without its
    correlation and agent settings. Nina is still listed (she cannot sign in), and the next click completes it."""
    orphan = User.objects.create(username="nina", password=nina.password, tenant=bcp_tenant, is_bcp_copy=True,
                                 role=Role.objects.get(tenant=bcp_tenant, name=AGENT))
    assert 'data-testid="missing-nina"' in bcp_alice.get(reverse(LIST)).text
    response = _give(bcp_alice, nina)
    assert "Nina New can sign in now" in response.text
    assert User.objects.filter(username="nina", is_bcp_copy=True).get() == orphan
    assert Correlation.objects.get(mapping=switched, entity_type="user", source_id=nina.pk).target_id == orphan.pk
    assert AgentProfile.objects.using("eu").get(user_id=orphan.pk).team.name == "Billing Support"
    assert audit_events().get(action="user.bcp_account_give").changes["taken_over"] is True


def test_a_crash_between_the_two_commits_is_repaired_by_the_next_forward_run(
        client, configured, switched, nina, bcp_tenant, django_capture_on_commit_callbacks):
    orphan = User.objects.create(username="nina", password=nina.password, tenant=bcp_tenant, is_bcp_copy=True)
    _switch(switched, PRIMARY, django_capture_on_commit_callbacks)
    run = run_sync(configured)
    assert run.status == "succeeded", run.errors
    assert User.objects.filter(username="nina", is_bcp_copy=True).get() == orphan
    orphan.refresh_from_db()
    assert orphan.role.name == AGENT and orphan.last_name == "New"
    assert Correlation.objects.get(mapping=switched, entity_type="user", source_id=nina.pk).target_id == orphan.pk


def test_only_while_the_bcp_tenant_is_active(client, synced, nina, bcp_tenant):
    # A person of the BCP tenant itself, on it while the primary is active.
    admin_role = Role.objects.get(tenant=bcp_tenant, name="Administrator")
    native = cc.agent_create(tenant=bcp_tenant, username="bea", password=PASSWORD, role=admin_role,
                             actor=Actor.system())
    client.force_login(native)
    page = client.get(reverse(LIST)).text
    assert "“Classics Inc.” is active, so accounts are not given here" in page
    assert 'data-testid="missing-nina"' in page and "Give an account…" not in page
    response = _give(client, nina, follow=False)
    assert response.status_code == 409 and "is active, so accounts are not given here" in response.text
    assert _copy() is None


def test_a_role_the_bcp_tenant_lacks_is_named_and_nothing_is_given(bcp_alice, configured):
    trainer = role_create(tenant=configured, name="Trainer", actor=Actor.system())
    tom = cc.agent_create(tenant=configured, username="tom", password=PASSWORD, role=trainer, actor=Actor.system())
    page = bcp_alice.get(reverse(LIST)).text
    assert "no role of this name on “Classics Inc. BCP”: add it under Admin → Roles first" in page
    response = _give(bcp_alice, tom)
    assert "tom has the role “Trainer”, which “Classics Inc. BCP” does not have" in response.text
    assert _copy("tom") is None


def test_bad_input_is_a_400_with_a_message_and_changes_nothing(bcp_alice, other_admin, nina):
    for data in ({"person": "x"}, {}, {"person": str(other_admin.pk)}, {"person": str(nina.pk + 10_000)}):
        response = bcp_alice.post(reverse(GIVE), data)
        assert response.status_code == 400, data
        assert "Choose who gets an account from the list below" in response.text
    assert _copy() is None


def test_the_page_keeps_a_fixed_number_of_queries(bcp_alice, configured, nina):
    def count():
        with CaptureQueriesEverywhere() as captured:
            assert bcp_alice.get(reverse(LIST)).status_code == 200
        return len(captured.captured_queries)

    count()  # the first page after sign-in also takes the switch's notice out of the session (a session write)
    before = count()
    for name in ("omar", "pia", "quinn"):
        cc.agent_create(tenant=configured, username=name, password=PASSWORD, role=role_of(configured, AGENT),
                        actor=Actor.system())
    assert count() == before


# --- who may, on the BCP tenant ---------------------------------------------------------------------------------


def test_a_supervisor_with_view_sees_the_list_but_cannot_give(client, switched, nina, bcp_tenant):
    role = Role.objects.get(tenant=bcp_tenant, name=SUPERVISOR)
    role_set_permissions(role=role, permissions=[VIEW_BCP_ENABLEMENT], scope=[VIEW_BCP_ENABLEMENT],
                         actor=Actor.system())
    client.force_login(User.objects.get(username="sam", is_bcp_copy=True))
    page = client.get(reverse(LIST))
    assert page.status_code == 200 and 'data-testid="missing-nina"' in page.text
    assert "Give an account…" not in page.text and "Giving accounts needs BCP Tenant Enablement Edit" in page.text
    assert client.get(reverse(GIVE), {"person": nina.pk}).status_code == 403
    assert _give(client, nina, follow=False).status_code == 403
    assert _copy() is None


@pytest.mark.parametrize("who", ["sam", "andy"])
def test_a_supervisor_or_agent_without_the_permission_does_not_find_the_page(client, switched, nina, who):
    client.force_login(User.objects.get(username=who, is_bcp_copy=True))
    assert client.get(reverse(LIST)).status_code == 404
    assert _give(client, nina, follow=False).status_code == 404
    assert _copy() is None


def test_an_administrator_of_another_tenant_does_not_find_the_page(client, switched, nina, other_admin):
    role_set_permissions(role=role_of(other_admin.tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT],
                         scope=[CHANGE_BCP_ENABLEMENT], actor=Actor.system())
    client.force_login(other_admin)
    assert client.get(reverse(LIST)).status_code == 404
    assert _give(client, nina, follow=False).status_code == 404
    assert _copy() is None


def test_anonymous_is_sent_to_sign_in(client, switched, nina):
    response = _give(client, nina, follow=False)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert _copy() is None


def test_a_representative_gives_an_account_only_while_supporting_the_bcp_tenant(client, switched, nina, rep):
    client.force_login(rep)
    assert client.get(reverse(LIST)).status_code == 404
    assert _give(client, nina, follow=False).status_code == 404
    assert client.post(reverse("support:start", args=[switched.secondary_id])).status_code == 302
    response = _give(client, nina)
    assert "Nina New can sign in now" in response.text
    event = audit_events().get(action="user.bcp_account_give")
    assert event.actor == rep and event.acting_as


# --- the sentences that tell people what to do -----------------------------------------------------------------


def test_the_readiness_line_names_them_and_says_what_gives_them_an_account(client, configured, synced, nina,
                                                                          django_capture_on_commit_callbacks):
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    line = client.get(reverse("enablement:page")).text
    assert "(3 of 4) have an account on the BCP tenant. Without one: Nina New." in line
    assert "The next sync gives them one. If you switch before it, an administrator on “Classics Inc. BCP”" in line
    assert "until the next sync" not in line

    _switch(synced, BCP, django_capture_on_commit_callbacks)
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    line = client.get(reverse("enablement:page")).text
    assert "An administrator on “Classics Inc. BCP” can give them one now" in line
    assert f'href="{reverse(LIST)}" data-testid="people-without-account"' in line


def test_the_sign_in_page_tells_the_person_whom_to_ask_for_what(client, switched, nina):
    response = _sign_in(client)
    assert response.status_code == 200
    assert "Ask one of your administrators to give you an account on “Classics Inc. BCP”" in response.text
    assert "BC Enablement → People without an account" in response.text
    assert "run a sync" not in response.text


def test_admin_users_on_the_bcp_tenant_points_to_the_list(client, switched):
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    _sign_in(client, "alice", PASSWORD)  # a real sign-in: the session knows it is on the BCP tenant
    page = client.get(reverse("contactcenter:user_list")).text
    assert 'data-testid="bcp-missing-accounts"' in page and f'href="{reverse(LIST)}"' in page


def test_the_list_and_the_confirmation_speak_german(client, switched, nina):
    alice = User.objects.get(username="alice", is_bcp_copy=True)
    alice.language = "de"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    page = client.get(reverse(LIST), HTTP_ACCEPT_LANGUAGE="de").text
    assert "Personen ohne Konto auf „Classics Inc. BCP“" in page and "Konto geben …" in page
    # "sie" (they), not the formal "Sie" (you).
    assert "kein Konto für sie gibt: sie wurden nach" in page
    confirm = client.get(reverse(GIVE), {"person": nina.pk}, HTTP_ACCEPT_LANGUAGE="de").text
    assert "Ein Konto auf „Classics Inc. BCP“ geben?" in confirm and "1 Konto geben" in confirm
    response = _give(client, nina)
    assert "Nina New kann sich jetzt mit dem gewohnten Benutzernamen" in response.text


@pytest.mark.django_db(transaction=True)
def test_two_administrators_giving_the_same_account_at_once_make_one(switched, nina):
    """The pair's row, then the fence in the backup's region, are locked until each database commits: the second
    click waits and finds the account the first one gave."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks between two connections; CI runs it there")
    import threading

    from enablement.missing_accounts.services import accounts_give

    barrier, results, errors = threading.Barrier(2), [], []
    alice = User.objects.get(username="alice", is_bcp_copy=True)

    def give():
        try:
            barrier.wait(5)
            outcome = accounts_give(mapping=BcpMapping.objects.get(pk=switched.pk), person_ids=[nina.pk],
                                    actor=Actor(user=alice))
            results.append((len(outcome.given), len(outcome.already), outcome.refused))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=give) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [(0, 1, []), (1, 0, [])]
    assert User.objects.filter(username="nina", is_bcp_copy=True).count() == 1
    assert Correlation.objects.filter(mapping=switched, entity_type="user", source_id=nina.pk).count() == 1
    assert audit_events().filter(action="user.bcp_account_give").count() == 1


def test_changes_since_the_last_sync_leaves_out_an_account_given_as_it_is_on_the_primary(
        bcp_alice, configured, switched, nina, client, django_capture_on_commit_callbacks):
    omar = cc.agent_create(tenant=configured, username="omar", password=PASSWORD, role=role_of(configured, AGENT),
                           team=Team.objects.get(tenant=configured, name="Billing Support"), actor=Actor.system())
    _give(bcp_alice, nina, omar)
    _switch(switched, PRIMARY, django_capture_on_commit_callbacks)
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    page = client.get(reverse("sync:changes")).text
    # Omar's account there is his as it is here; Nina's lacks her skill Spanish, which the BCP tenant lacks too.
    assert "<td>omar</td>" not in page
    assert "<td>nina</td>" in page and "<td>Spanish</td>" in page
