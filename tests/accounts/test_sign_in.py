"""Sign-in and sign-out through the real pages: routing per persona, failures, audit, throttling."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from tests.auditlog import audit_events
from tests.factories import UserFactory

SIGN_IN = "/sign-in/"
SIGN_OUT = "/sign-out/"
ADDRESS = "203.0.113.7"


def post_sign_in(client, username, password, *, address=ADDRESS, follow=False, **fields):
    data = {"username": username, "password": password, **fields}
    return client.post(SIGN_IN, data, REMOTE_ADDR=address, follow=follow)


def signed_in_user(client):
    from django.contrib.auth import get_user

    user = get_user(client)
    return user if user.is_authenticated else None


# --- Success: each persona lands on the application they use ------------------------------------------------


@pytest.mark.parametrize(("persona", "username", "landing"), [
    ("rep", "rep", "/tm/tenants/"),
    ("tenant_admin", "alice", "/admin/"),
    ("supervisor", "sam", "/admin/"),
    ("agent", "andy", "/profile/"),
    ("other_admin", "nora", "/admin/"),
])
def test_it_sends_each_persona_to_their_application(client, request, password, persona, username, landing):
    user = request.getfixturevalue(persona)
    response = post_sign_in(client, username, password, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == landing
    assert signed_in_user(client) == user


def test_the_username_is_not_case_sensitive(client, agent, password):
    response = post_sign_in(client, "ANDY", password)
    assert response.status_code == 302
    assert signed_in_user(client) == agent


def test_it_follows_a_safe_next_but_not_another_site(client, agent, password):
    response = post_sign_in(client, "andy", password, next="/profile/?tab=1")
    assert response.headers["Location"] == "/profile/?tab=1"
    client.post(SIGN_OUT, REMOTE_ADDR=ADDRESS)
    response = post_sign_in(client, "andy", password, next="https://evil.example.com/")
    assert "evil" not in response.headers["Location"]


def test_a_signed_in_visitor_of_the_sign_in_page_goes_home(client, agent):
    client.force_login(agent)
    response = client.get(SIGN_IN)
    assert response.status_code == 302


# --- Failures ---------------------------------------------------------------------------------------------


def test_a_wrong_password_shows_the_message_and_signs_nobody_in(client, agent):
    response = post_sign_in(client, "andy", "not-the-password")
    assert response.status_code == 200
    assert "The username or password is not right" in response.text
    assert signed_in_user(client) is None


def test_an_unknown_username_gets_the_same_message(client, agent, password):
    response = post_sign_in(client, "nobody", password)
    assert response.status_code == 200
    assert "The username or password is not right" in response.text


def test_an_empty_form_is_refused(client, db):
    response = client.post(SIGN_IN, {}, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 200
    assert signed_in_user(client) is None


def test_an_inactive_user_cannot_sign_in(client, agent, password):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = post_sign_in(client, "andy", password)
    assert response.status_code == 200
    assert "The username or password is not right" in response.text
    assert signed_in_user(client) is None


def test_a_user_of_an_inactive_tenant_cannot_sign_in(client, agent, tenant, password):
    tenant.status = tenant.Status.INACTIVE
    tenant.save(update_fields=["status"])
    response = post_sign_in(client, "andy", password)
    assert response.status_code == 200
    assert signed_in_user(client) is None


def test_sign_in_without_a_csrf_token_is_refused(agent, password):
    client = Client(enforce_csrf_checks=True)
    response = post_sign_in(client, "andy", password)
    assert response.status_code == 403
    assert signed_in_user(client) is None


def test_switching_a_signed_in_user_off_ends_their_session(client, agent):
    client.force_login(agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in/")


# --- Sign-out ---------------------------------------------------------------------------------------------


def test_sign_out_by_get_is_refused(client, agent):
    client.force_login(agent)
    response = client.get(SIGN_OUT)
    assert response.status_code == 405
    assert signed_in_user(client) == agent


def test_sign_out_without_a_csrf_token_is_refused(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(SIGN_OUT)
    assert response.status_code == 403
    assert signed_in_user(client) == agent


def test_sign_out_with_the_csrf_token_from_the_page_signs_out(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    page = client.get("/profile/")
    token = page.context["csrf_token"]
    response = client.post(SIGN_OUT, {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/"
    assert signed_in_user(client) is None


# --- Audit ------------------------------------------------------------------------------------------------


def _no_password_in(event, password):
    row = " ".join(str(value) for value in (
        event.actor_name, event.acting_as, event.action, event.tenant_name, event.object_type, event.object_id,
        event.object_repr, event.changes, event.ip_address,
    ))
    return password not in row and "*****" not in row


def test_sign_in_and_sign_out_are_audited(client, agent, tenant, password):
    post_sign_in(client, "andy", password)
    client.post(SIGN_OUT, REMOTE_ADDR=ADDRESS)
    sign_in = audit_events().get(action="auth.sign_in")
    sign_out = audit_events().get(action="auth.sign_out")
    for event in (sign_in, sign_out):
        assert event.actor == agent
        assert event.actor_name == "andy"
        assert event.tenant == tenant
        assert event.tenant_name == "Classics Inc."
        assert event.ip_address == ADDRESS
        assert _no_password_in(event, password)


def test_a_failed_sign_in_is_audited_without_the_password(client, agent):
    post_sign_in(client, "andy", "wrong-secret-value")
    event = audit_events().get(action="auth.sign_in_failed")
    assert event.actor is None
    assert event.changes == {"username": "andy"}
    assert event.ip_address == ADDRESS
    assert _no_password_in(event, "wrong-secret-value")


# --- One username in several tenants ----------------------------------------------------------------------


def test_a_username_names_one_person_across_the_platform(agent, other_tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="ANDY", tenant=other_tenant)


def test_the_same_username_twice_in_one_tenant_is_refused_by_the_database(agent, tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="Andy", tenant=tenant)


def test_the_same_username_twice_among_platform_staff_is_refused_by_the_database(rep):
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="REP", tenant=None)


def test_the_bcp_tenants_copy_may_share_the_username(agent, other_tenant):
    copy = UserFactory(username="andy", tenant=other_tenant, is_bcp_copy=True)
    assert copy.pk != agent.pk


def test_a_copy_never_signs_in_while_the_primary_is_active(client, agent, other_tenant, password):
    copy = UserFactory(username="andy", tenant=other_tenant, is_bcp_copy=True)
    copy.set_password("the-copys-own-password")
    copy.save()
    post_sign_in(client, "andy", "the-copys-own-password")
    assert signed_in_user(client) is None
    post_sign_in(client, "andy", password)
    assert signed_in_user(client) == agent


# --- Throttling (django-axes) -----------------------------------------------------------------------------


def fail(client, username, times, *, address=ADDRESS):
    return [post_sign_in(client, username, "wrong-password", address=address) for _ in range(times)]


@pytest.fixture
def locked_out_agent(client, agent):
    responses = fail(client, "andy", settings.AXES_FAILURE_LIMIT)
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    return agent


def test_after_the_failure_limit_the_page_answers_429_with_when_to_try_again(client, locked_out_agent, password):
    response = post_sign_in(client, "andy", password)
    assert response.status_code == 429
    ends_at = AccessAttempt.objects.get(username="andy").attempt_time + settings.AXES_COOLOFF_TIME
    shown_at = ends_at + timedelta(seconds=59, microseconds=999_999)  # never earlier than the lock ends
    assert "Too many failed sign-ins" in response.text
    assert f"Try again after {shown_at:%Y-%m-%d %H:%M} UTC" in response.text
    cool_off = settings.AXES_COOLOFF_TIME.total_seconds()
    assert cool_off - 60 < int(response.headers["Retry-After"]) <= cool_off
    assert signed_in_user(client) is None


def test_the_limit_is_reached_on_the_last_allowed_failure(client, agent):
    responses = fail(client, "andy", settings.AXES_FAILURE_LIMIT)
    assert responses[-1].status_code == 429


def test_another_address_is_not_locked(client, locked_out_agent, password):
    response = post_sign_in(Client(), "andy", password, address="198.51.100.9")
    assert response.status_code == 302


def test_another_username_from_the_same_address_is_not_locked(client, locked_out_agent, supervisor, password):
    response = post_sign_in(Client(), "sam", password)
    assert response.status_code == 302


def test_changing_the_case_of_the_username_does_not_get_round_the_limit(client, agent, password):
    variants = ["andy", "Andy", "ANDY", "aNdy", "anDy", "andY", "ANdy"]
    for variant in variants[: settings.AXES_FAILURE_LIMIT]:
        post_sign_in(client, variant, "wrong-password")
    response = post_sign_in(client, "AnDy", password)
    assert response.status_code == 429
    assert signed_in_user(client) is None


def test_after_the_cool_off_the_user_can_sign_in_again(client, locked_out_agent, password):
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    AccessAttempt.objects.update(attempt_time=past)
    response = post_sign_in(client, "andy", password)
    assert response.status_code == 302
    assert signed_in_user(client) == locked_out_agent


def test_a_success_before_the_limit_resets_the_count(client, agent, password):
    fail(client, "andy", settings.AXES_FAILURE_LIMIT - 1)
    assert post_sign_in(client, "andy", password).status_code == 302
    client.post(SIGN_OUT, REMOTE_ADDR=ADDRESS)
    responses = fail(client, "andy", settings.AXES_FAILURE_LIMIT - 1)
    assert all(r.status_code == 200 for r in responses)


@pytest.mark.parametrize("length", [151, 255, 256, 1000])
def test_an_over_long_username_is_refused_with_the_form_and_counted(client, agent, length):
    """Longer than any username can be: the same sentence as any wrong sign-in, and the failure is still
    counted (by a key the throttle's table can hold), never a 500. PostgreSQL enforces the column's length."""
    username = "a" * length
    response = post_sign_in(client, username, "wrong")
    assert response.status_code == 200 and "The username or password is not right" in response.text
    assert signed_in_user(client) is None
    attempt = AccessAttempt.objects.get(ip_address=ADDRESS)
    assert attempt.failures_since_start == 1 and len(attempt.username) <= 255
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        post_sign_in(client, username, "wrong")
    assert post_sign_in(client, username, "wrong").status_code == 429
    assert post_sign_in(client, "andy", "wrong").status_code == 200  # another username is not locked


@pytest.mark.parametrize("look_alike", ["ａｎｄｙ", "ＡＮＤＹ", "Andy"])
def test_a_look_alike_username_is_refused_by_the_database(agent, other_tenant, look_alike):
    """The constraint holds the key sign-in compares (NFKC, case-folded), not only a form."""
    from accounts.models import User

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username=look_alike, tenant=other_tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(username=look_alike, tenant=other_tenant)])
    # The sync's copy on a BCP tenant shares the person's name: still allowed, once per tenant.
    User.objects.create(username=look_alike, tenant=other_tenant, is_bcp_copy=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="andy", tenant=other_tenant, is_bcp_copy=True)


def test_a_rename_keeps_the_key_in_step(agent, other_tenant):
    agent.username = "Ａｎｄｒｅａ"
    agent.save(update_fields=["username"])
    agent.refresh_from_db()
    assert agent.username_key == "andrea"
    UserFactory(username="andy", tenant=other_tenant)  # the old name is free again


def test_full_width_letters_sign_in_as_the_person(client, agent, password):
    response = post_sign_in(client, "ａｎｄｙ", password)
    assert response.status_code == 302 and signed_in_user(client) == agent


def test_the_migration_fills_the_keys_and_names_look_alikes(agent, supervisor, other_tenant):
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    from accounts.models import User

    migration = import_module("accounts.migrations.0004_username_key")
    editor = type("Editor", (), {"connection": connection})()
    for pk in User.objects.values_list("pk", flat=True):  # keys as a database before the migration has none
        User.objects.filter(pk=pk).update(username_key=f"unset-{pk}")
    migration.fill_keys(apps, editor)
    assert set(User.objects.values_list("username", "username_key")) >= {("andy", "andy"), ("sam", "sam")}
    # A look-alike stored before the constraint existed: the migration stops and says which.
    User.objects.filter(pk=supervisor.pk).update(username="ＡＮＤＹ", username_key="unset")
    with pytest.raises(RuntimeError, match="look alike and would sign in as one: “andy” and “ＡＮＤＹ”"):
        migration.fill_keys(apps, editor)
