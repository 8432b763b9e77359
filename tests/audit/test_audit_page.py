"""The TM audit log page: filters, pagination, and who may read it."""

from datetime import UTC, datetime

import pytest
from django.conf import settings

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from tests.auditlog import audit_events

AUDIT = "/tm/audit/"
HTMX = {"HTTP_HX_REQUEST": "true"}
PER_PAGE = settings.PAGE_SIZE * 2


@pytest.fixture
def signed_in_rep(client, rep):
    client.force_login(rep)
    # Signing in is itself audited; keep only the rows each test makes.
    audit_events().filter(actor=rep, action="auth.sign_in").delete()
    return client


def at(*args):
    return datetime(*args, tzinfo=UTC)


def event(*, when, **fields):
    row = AuditEvent.objects.create(**fields)
    audit_events().filter(pk=row.pk).update(created_at=when)
    return row


@pytest.fixture
def events(db):
    return {
        "rep_creates": event(when=at(2026, 3, 1, 9, 0), actor_name="rep", action="tenant.create",
                             tenant_name="Classics Inc.", object_repr="Classics Inc.", ip_address="192.0.2.1"),
        "alice_signs_in": event(when=at(2026, 3, 1, 23, 59, 59), actor_name="alice", action="auth.sign_in",
                                tenant_name="Classics Inc."),
        "alice_fails": event(when=at(2026, 3, 2, 0, 0), actor_name="", action="auth.sign_in_failed",
                             changes={"username": "alice"}),
        "nora_role": event(when=at(2026, 3, 5, 12, 0), actor_name="nora", action="role.create",
                           tenant_name="Northwind Support", acting_as="rep acting in tenant Northwind Support"),
    }


def shown(response) -> list[int]:
    return [e.pk for e in response.context["page"].object_list]


def ids(events, *names) -> list[int]:
    return [events[name].pk for name in names]


def test_it_lists_the_newest_first(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT)
    assert response.status_code == 200
    assert shown(response) == ids(events, "nora_role", "alice_fails", "alice_signs_in", "rep_creates")
    assert "2026-03-01 09:00:00" in response.text
    assert "192.0.2.1" in response.text
    assert "rep acting in tenant Northwind Support" in response.text


def test_filter_by_who_finds_the_person_and_the_failed_sign_ins_with_their_username(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT, {"actor": "ALI"})
    assert shown(response) == ids(events, "alice_fails", "alice_signs_in")
    assert "alice?</span>" in response.text
    assert shown(signed_in_rep.get(AUDIT, {"actor": "nora"})) == ids(events, "nora_role")


def test_filter_by_what_matches_the_start_of_the_action(signed_in_rep, events):
    assert shown(signed_in_rep.get(AUDIT, {"action": "auth."})) == ids(events, "alice_fails", "alice_signs_in")
    assert shown(signed_in_rep.get(AUDIT, {"action": "auth.sign_in_failed"})) == ids(events, "alice_fails")


def test_filter_by_tenant(signed_in_rep, events):
    assert shown(signed_in_rep.get(AUDIT, {"tenant": "classics"})) == ids(events, "alice_signs_in", "rep_creates")


def test_filter_by_dates_includes_both_whole_days(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT, {"day_from": "2026-03-01", "day_to": "2026-03-01"})
    assert shown(response) == ids(events, "alice_signs_in", "rep_creates")
    response = signed_in_rep.get(AUDIT, {"day_from": "2026-03-02"})
    assert shown(response) == ids(events, "nora_role", "alice_fails")
    response = signed_in_rep.get(AUDIT, {"day_to": "2026-03-04"})
    assert shown(response) == ids(events, "alice_fails", "alice_signs_in", "rep_creates")


def test_filters_combine(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT, {"tenant": "classics", "action": "tenant", "day_from": "2026-03-01"})
    assert shown(response) == ids(events, "rep_creates")


def test_nothing_matching_says_so(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT, {"actor": "nobody"})
    assert response.status_code == 200
    assert "No audit events match these filters." in response.text


def test_from_after_to_is_refused_with_a_message(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT, {"day_from": "2026-03-05", "day_to": "2026-03-01"})
    assert response.status_code == 400
    assert "“To” must be on or after “From”." in response.text
    assert shown(response) == []


def test_from_after_to_by_htmx_shows_the_message_in_the_table(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT, {"day_from": "2026-03-05", "day_to": "2026-03-01"}, **HTMX)
    assert response.status_code == 400
    assert "<html" not in response.text
    assert "“To” must be on or after “From”." in response.text


def test_a_date_that_is_not_a_date_is_refused(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT, {"day_from": "2026-02-30"})
    assert response.status_code == 400
    assert shown(response) == []


def test_an_htmx_request_gets_only_the_table(signed_in_rep, events):
    response = signed_in_rep.get(AUDIT, {"actor": "nora"}, **HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "role.create" in response.text and "tenant.create" not in response.text


def test_pagination_keeps_the_filters(signed_in_rep, db):
    AuditEvent.objects.bulk_create(
        AuditEvent(actor_name="rep", action="tenant.create", tenant_name=f"T{n}") for n in range(PER_PAGE + 3)
    )
    AuditEvent.objects.create(actor_name="alice", action="auth.sign_in")
    first = signed_in_rep.get(AUDIT, {"actor": "rep"})
    assert len(shown(first)) == PER_PAGE
    assert "Page 1 of 2" in first.text
    assert 'href="?actor=rep&amp;page=2"' in first.text
    second = signed_in_rep.get(AUDIT, {"actor": "rep", "page": "2"}, **HTMX)
    assert len(shown(second)) == 3
    assert "<html" not in second.text


def test_the_username_of_a_failed_sign_in_is_escaped(signed_in_rep, db):
    audit_record(action="auth.sign_in_failed", by=Actor(anonymous=True),
                 changes={"username": "<script>alert(1)</script>"})
    response = signed_in_rep.get(AUDIT)
    assert "<script>alert(1)</script>" not in response.text


@pytest.mark.parametrize("persona", ["agent", "supervisor", "tenant_admin", "other_admin"])
def test_only_representatives_can_read_it(as_persona, events, persona):
    assert as_persona(persona).get(AUDIT).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, events):
    response = client.get(AUDIT)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in/")


# Measured with 10 events: session, user, the user's and its groups' permissions, count, one page.
# A page: the session, the user, the permission, and a count and a read in each of the four databases.
AUDIT_QUERIES = 12


@pytest.mark.parametrize("count", [10, 1000])
def test_the_page_uses_the_same_number_of_queries_however_many_events(signed_in_rep, tenant,
                                                                      django_assert_num_queries, count):
    AuditEvent.objects.bulk_create(
        AuditEvent(actor_name="bulk-rep", action="tenant.create", tenant=tenant, tenant_name=tenant.name)
        for _ in range(count)
    )
    with django_assert_num_queries(AUDIT_QUERIES):
        response = signed_in_rep.get(AUDIT, {"actor": "bulk", "tenant": "classics"})
    assert len(shown(response)) == min(count, PER_PAGE)
