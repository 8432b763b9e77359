"""The daily reminders: a drill overdue, a stale emergency contact, a follow-up action past due; one email per
owner per run listing every cause, in the owner's language; each cause at most once a week."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation

from audit.services import Actor
from bcp_project.celery import app
from continuity import tasks
from continuity.drills import services as drills
from continuity.models import Drill, EmergencyContact, FollowUpAction, Plan, Reminder
from continuity.reminders import reminders_send as _reminders_send
from tests.factories import UserFactory

NOW = timezone.now()
TODAY = timezone.localdate(NOW)


@pytest.fixture
def due(tenant, plan, tenant_admin):
    """A plan started 100 days ago that asks for a drill every month; a contact last reviewed 91 days ago; one
    follow-up action past due and one not yet due."""
    Plan.objects.filter(pk=plan.pk).update(created_at=NOW - timedelta(days=100), drill_every_months=1)
    contact = EmergencyContact.objects.create(tenant=tenant, name="Carrier NOC", phone="+1 415 555 0199",
                                              last_reviewed=TODAY - timedelta(days=91))
    EmergencyContact.objects.create(tenant=tenant, name="Facilities", last_reviewed=TODAY - timedelta(days=10))
    drill = Drill.objects.create(tenant=tenant, kind="tabletop", scenario="Fire alarm", outcome="partial",
                                 held_on=TODAY - timedelta(days=45))
    late = FollowUpAction.objects.create(tenant=tenant, drill=drill, description="Print the call tree",
                                         owner=tenant_admin, due_on=TODAY - timedelta(days=1))
    FollowUpAction.objects.create(tenant=tenant, drill=drill, description="Buy a radio",
                                  due_on=TODAY + timedelta(days=30))
    return {"contact": contact, "action": late, "drill": drill}


@pytest.fixture
def owners(plan, tenant):
    english = UserFactory(username="olga", first_name="Olga", tenant=tenant, language="en")
    german = UserFactory(username="dieter", first_name="Dieter", tenant=tenant, language="de")
    plan.owners.set([english, german])
    return english, german


@pytest.fixture
def reminders_send(django_capture_on_commit_callbacks):
    """One pass, with the emails it sends once its Reminder rows have committed."""

    def send(now):
        with django_capture_on_commit_callbacks(execute=True):
            return _reminders_send(now=now)

    return send


def _causes(tenant):
    return sorted(Reminder.objects.filter(tenant=tenant).values_list("cause", flat=True))


def test_each_owner_gets_one_email_listing_every_cause_in_their_language(due, owners, tenant, reminders_send):
    mail.outbox.clear()
    [sent] = reminders_send(now=NOW)
    contact, action = due["contact"], due["action"]
    assert sorted(sent.causes) == sorted(["drill_overdue", f"contact_stale:{contact.pk}",
                                          f"action_overdue:{action.pk}"])
    assert _causes(tenant) == sorted(sent.causes)
    assert sorted(m.to[0] for m in mail.outbox) == ["dieter@example.com", "olga@example.com"]
    english = next(m for m in mail.outbox if m.to == ["olga@example.com"])
    assert english.subject == "Continuity plan of Classics Inc.: 3 reminders"
    assert f"Hello {owners[0].get_full_name()}," in english.body
    assert "A drill is overdue: the last one was on" in english.body and "every month" in english.body
    assert "“Carrier NOC” was last reviewed" in english.body and "“Print the call tree” was due on" in english.body
    assert "Buy a radio" not in english.body and "Facilities" not in english.body
    assert "/plan/drills/" in english.body and "/plan/settings/" in english.body
    german = next(m for m in mail.outbox if m.to == ["dieter@example.com"])
    with translation.override("de"):
        assert german.subject == translation.ngettext(
            "Continuity plan of %(tenant)s: %(count)d reminder", "Continuity plan of %(tenant)s: %(count)d reminders",
            3) % {"tenant": "Classics Inc.", "count": 3}
        assert translation.gettext("Hello %(name)s,") % {"name": owners[1].get_full_name()} in german.body


def test_a_cause_is_reminded_of_at_most_once_a_week(due, owners, tenant, tenant_admin, reminders_send):
    reminders_send(now=NOW)
    mail.outbox.clear()
    assert reminders_send(now=NOW + timedelta(hours=1)) == []
    assert reminders_send(now=NOW + timedelta(days=6)) == []
    assert mail.outbox == []

    # A new cause three days later is reminded of at once, and alone.
    newer = FollowUpAction.objects.create(tenant=tenant, drill=due["drill"], description="Test the radio",
                                          owner=tenant_admin, due_on=TODAY)
    [sent] = reminders_send(now=NOW + timedelta(days=3))
    assert sent.causes == [f"action_overdue:{newer.pk}"]
    assert len(mail.outbox) == 2 and all("Test the radio" in m.body and "Carrier NOC" not in m.body
                                         for m in mail.outbox)

    # A week after the first, what is still due is reminded of again; what was fixed is not.
    FollowUpAction.objects.filter(pk=due["action"].pk).update(done_on=TODAY)
    EmergencyContact.objects.filter(pk=due["contact"].pk).update(last_reviewed=TODAY)
    mail.outbox.clear()
    [sent] = reminders_send(now=NOW + timedelta(days=7, minutes=1))
    assert sent.causes == ["drill_overdue"]
    assert len(mail.outbox) == 2


def test_a_drill_held_in_time_is_no_cause(due, owners, tenant, tenant_admin, reminders_send):
    drills.drill_create(tenant=tenant, actor=Actor(user=tenant_admin), kind="tabletop", scenario="Flood",
                        held_on=TODAY, outcome="passed")
    [sent] = reminders_send(now=NOW)
    assert "drill_overdue" not in sent.causes


def test_without_owners_the_plan_editors_are_reminded(due, tenant, tenant_admin, supervisor, reminders_send):
    mail.outbox.clear()
    [sent] = reminders_send(now=NOW)
    # The administrator's role holds Continuity Plan: Edit; the supervisor's does not.
    assert sent.recipients == [tenant_admin.email] and [m.to for m in mail.outbox] == [[tenant_admin.email]]


def test_a_plan_with_nothing_due_sends_nothing(tenant, plan, owners, reminders_send):
    mail.outbox.clear()
    assert reminders_send(now=NOW) == [] and mail.outbox == [] and not Reminder.objects.exists()


def test_the_daily_beat_task_sends_the_reminders(due, owners, tenant, django_capture_on_commit_callbacks):
    entry = settings.CELERY_BEAT_SCHEDULE["continuity-daily"]
    assert entry["task"] == "continuity.daily" and entry["task"] in app.tasks
    assert entry["schedule"].remaining_estimate(NOW) <= timedelta(days=1)  # daily
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.daily()
    assert len(mail.outbox) == 2 and len(_causes(tenant)) == 3
