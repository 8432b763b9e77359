"""One login URL: a sign-in lands on the active tenant of the pair; after a switch every session signs in again."""

import pytest
from django.urls import reverse

from accounts.models import User
from audit.services import Actor
from contactcenter import services as cc
from enablement import services
from tenants.models import BcpMapping
from tests.caches import clear_routing_cache
from tests.enablement.conftest import PASSKEY
from tests.factories import PASSWORD
from tests.queries import CaptureQueriesEverywhere

BCP, PRIMARY = BcpMapping.Side.SECONDARY, BcpMapping.Side.PRIMARY


@pytest.fixture
def _switch(django_capture_on_commit_callbacks):
    """A switch, with what it does on commit (the new epoch into the routing cache, the emails) done too."""

    def switch(mapping, to_side=BCP, **kwargs):
        alice = User.objects.get(username="alice", is_bcp_copy=False)
        with django_capture_on_commit_callbacks(execute=True):
            return services.tenant_switch(mapping=mapping, to_side=to_side, passkey=PASSKEY, actor=Actor(user=alice),
                                          **kwargs)

    return switch


def _sign_in(client, username="andy", password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_after_a_switch_the_next_request_signs_in_again_and_lands_on_the_bcp_tenant(client, synced, _switch):
    assert _sign_in(client).status_code == 302
    page = client.get(reverse("accounts:profile")).text
    assert "<strong>Classics Inc.</strong>" in page and 'data-testid="bcp-banner"' not in page

    _switch(synced)

    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/?reason=switched")
    sign_in_page = client.get(response["Location"]).text
    assert "Sign in again with the same username and password" in sign_in_page
    assert _sign_in(client).status_code == 302
    page = client.get(reverse("accounts:profile")).text
    assert "<strong>Classics Inc. BCP</strong>" in page and 'data-testid="bcp-banner"' in page
    assert client.session["_auth_user_id"] == str(User.objects.get(username="andy", is_bcp_copy=True).pk)

    _switch(synced, to_side=PRIMARY)
    assert client.get(reverse("accounts:profile")).status_code == 302
    _sign_in(client)
    assert client.session["_auth_user_id"] == str(User.objects.get(username="andy", is_bcp_copy=False).pk)


def test_an_htmx_request_after_a_switch_is_sent_to_sign_in_as_a_whole_page(client, synced, _switch):
    _sign_in(client)
    _switch(synced)
    response = client.get(reverse("accounts:profile"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/sign-in/?reason=switched")


def test_a_person_renamed_since_the_last_sync_is_still_found(client, synced, configured, _switch):
    # Renamed on the primary after the last sync: the copy still has the old name.
    User.objects.filter(username="andy", is_bcp_copy=False).update(username="andrew", username_key="andrew")
    _switch(synced)
    assert _sign_in(client, username="andrew").status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="andy", is_bcp_copy=True).pk)


def test_a_person_made_after_the_last_sync_is_told_whom_to_ask(client, synced, configured, _switch):
    from accounts.roles import AGENT
    from tests.factories import role_of

    cc.agent_create(tenant=configured, username="newbie", password=PASSWORD, role=role_of(configured, AGENT),
                    actor=Actor.system())
    _switch(synced, force=True, reason="Primary is down; newbie gets an account after the next sync")
    response = _sign_in(client, username="newbie")
    assert response.status_code == 200
    assert "you have no account there yet" in response.text and "Classics Inc. BCP" in response.text
    assert "_auth_user_id" not in client.session
    # A wrong password gets the ordinary message: nothing is revealed about the account.
    response = _sign_in(client, username="newbie", password="wrong-password")
    assert "no account there yet" not in response.text and "is not right" in response.text


def test_a_support_session_on_the_side_that_became_inactive_ends_with_a_message(client, synced, rep, _switch):
    from tenants.support.selectors import SESSION_KEY
    client.force_login(rep)
    assert client.post(reverse("support:start", args=[synced.primary_id])).status_code == 302
    assert client.get(reverse("accounts:admin_home")).status_code == 200
    _switch(synced)
    page = client.get(reverse("accounts:profile"), follow=True).text
    assert "ended because its BCP pair switched" in page
    assert SESSION_KEY not in client.session


def test_routing_adds_one_query_to_a_request_and_none_with_a_cache(client, synced, settings):
    _sign_in(client)
    client.get(reverse("accounts:profile"))

    def epoch_queries():
        with CaptureQueriesEverywhere() as captured:
            assert client.get(reverse("accounts:profile")).status_code == 200
        return [q for q in captured.captured_queries if "routing_epoch" in q["sql"]]

    clear_routing_cache()
    assert len(epoch_queries()) <= 1
    settings.CACHES = {**settings.CACHES, "routing": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                      "LOCATION": "routing-test"}}
    from django.core.cache import caches as fresh

    fresh["routing"].clear()
    epoch_queries()  # the first read fills the cache
    assert epoch_queries() == []


@pytest.mark.parametrize("sessions", [1, 3])
def test_a_switch_signs_out_every_session_of_the_pair_and_no_other(synced, sessions, client_factory, other_admin,
                                                                  _switch):
    clients = [client_factory() for _ in range(sessions)]
    for c in clients:
        _sign_in(c)
    outsider = client_factory()
    outsider.force_login(other_admin)
    _switch(synced)
    assert all(c.get(reverse("accounts:profile")).status_code == 302 for c in clients)
    assert outsider.get(reverse("accounts:profile")).status_code == 200


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client
