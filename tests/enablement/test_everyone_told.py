"""Everyone told (issue 18): after a switch every user of the pair sees once which tenant they are on and why, the
sign-in page names the tenant they land on, an administrator's message for the pair shows to both tenants' users
(and nobody else's) until it is removed, and everyone with an address is emailed (unless they turned it off)."""

import socket

import pytest
from django.core import mail
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.roles import ADMINISTRATOR, CHANGE_BCP_ENABLEMENT, SUPERVISOR, VIEW_BCP_ENABLEMENT
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.celery import app
from enablement import notices, services
from enablement.models import PairMessage, Switch, SwitchNoticeShown
from sync.models import SyncRun
from tenants.models import BcpMapping
from tests.auditlog import audit_events
from tests.enablement.conftest import PASSKEY
from tests.factories import PASSWORD, UserFactory, role_of
from tests.permissions import GET, POST, Row, answers, ask, cases
from tests.queries import CaptureQueriesEverywhere, capture_on_commit_everywhere
from tests.sync.conftest import run_sync

BCP, PRIMARY = BcpMapping.Side.SECONDARY, BcpMapping.Side.PRIMARY
SCOPE = [VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT]


CHECKED = 'id="id_switch_emails" checked'


def person(username, *, copy=False) -> User:
    return User.objects.get(username=username, is_bcp_copy=copy)


@pytest.fixture
def tasks_run_here():
    """Celery runs the tasks a commit sends in this process (its eager mode), so the test sees their emails."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def switch(django_capture_on_commit_callbacks):
    """A switch with what it does on commit done too (the routing cache, the emails, the task)."""

    def run(mapping, to_side=BCP, reason="", by="alice"):
        with django_capture_on_commit_callbacks(execute=True):
            return services.tenant_switch(mapping=mapping, to_side=to_side, passkey=PASSKEY, reason=reason,
                                          force=bool(reason), actor=Actor(user=person(by)))

    return run


def _sign_in(client, username="andy"):
    client.get(reverse("accounts:login"))  # a session the switch made stale is signed out here, as in a browser
    return client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD}, follow=True)


def _post(client, url, data=None, *, follow=False):
    """A POST whose commit runs its on_commit work, as in production (the message reaches the shared cache when
    there is one, Redis), then the page it redirects to."""
    with capture_on_commit_everywhere(execute=True):
        response = client.post(url, data or {})
    return client.get(response.url) if follow and response.status_code == 302 else response


def _emails(**people):
    """Gives each person (username=email) that address on every account (theirs and the sync's copy)."""
    for username, email in people.items():
        User.objects.filter(username=username).update(email=email)


# --- the notice after sign-in ------------------------------------------------------------------------------------


def test_after_a_switch_each_person_is_told_once_where_they_are_and_why(client, synced, switch):
    switch(synced, reason="The North America data centre is down.")
    page = _sign_in(client).text
    assert 'data-testid="switch-notice"' in page
    assert "Your organization switched to its BCP tenant." in page
    assert "Instead of Classics Inc., you are working in <strong>Classics Inc. BCP</strong>, its backup system." in page
    # Named as the header and the sync history name people: the full name, not the username.
    assert "Alice Admin switched <time" in page and "just now, " in page and "alice switched" not in page
    assert "Reason: “The North America data centre is down.”" in page
    # Once: not on the next page, nor after signing in again.
    assert 'data-testid="switch-notice"' not in client.get(reverse("accounts:profile")).text
    client.post(reverse("accounts:logout"))
    assert 'data-testid="switch-notice"' not in _sign_in(client).text
    assert SwitchNoticeShown.objects.filter(user=person("andy", copy=True)).count() == 1

    # Someone else of the pair is told too, in their own browser.
    assert "Your organization switched to its BCP tenant." in _sign_in(Client(), "sam").text

    # The switch back is a switch of its own: told once again, on the primary.
    switch(synced, to_side=PRIMARY)
    page = _sign_in(client).text
    assert "Your organization switched back to its primary tenant." in page
    assert "You are working in <strong>Classics Inc.</strong> again." in page and "Reason:" not in page


def test_the_notice_is_in_the_persons_language(client, synced, switch):
    User.objects.filter(username="andy").update(language="de")
    switch(synced)
    page = _sign_in(client).text
    assert "Ihre Organisation ist auf ihren BCP-Mandanten gewechselt." in page
    assert "Alice Admin hat gewechselt" in page


def test_someone_made_after_a_switch_back_is_not_told_of_it(client, synced, switch, configured):
    switch(synced)
    switch(synced, to_side=PRIMARY)
    UserFactory(username="newcomer", tenant=configured, role=role_of(configured, ADMINISTRATOR))
    assert 'data-testid="switch-notice"' not in _sign_in(client, "newcomer").text


def test_a_pair_that_never_switched_tells_nobody_anything(client, synced):
    page = _sign_in(client).text
    assert 'data-testid="switch-notice"' not in page and not SwitchNoticeShown.objects.exists()


def test_the_notice_costs_the_pages_nothing(client, synced, switch):
    switch(synced)
    _sign_in(client)
    client.get(reverse("accounts:profile"))

    def profile_queries():
        with CaptureQueriesEverywhere() as captured:
            assert client.get(reverse("accounts:profile")).status_code == 200
        return len(captured)

    shown = profile_queries()
    client.post(reverse("accounts:logout"))
    _sign_in(client)  # no notice this time
    assert profile_queries() == shown


# --- the sign-in page after a switch -----------------------------------------------------------------------------


def test_the_sign_in_page_after_a_switch_names_the_tenant_people_land_on(client, synced, switch):
    _sign_in(client)
    switch(synced)
    page = client.get(reverse("accounts:profile"), follow=True).text
    assert "Your organization switched to its BCP tenant “Classics Inc. BCP”, so everyone was signed out." in page
    assert "you land on “Classics Inc. BCP”" in page

    _sign_in(client)
    switch(synced, to_side=PRIMARY)
    page = client.get(reverse("accounts:profile"), follow=True).text
    assert "Your organization switched back to its primary tenant “Classics Inc.”" in page


def test_the_sign_in_page_names_the_tenant_in_german_too(synced, switch):
    browser = Client(headers={"Accept-Language": "de"})
    _sign_in(browser)
    switch(synced)
    page = browser.get(reverse("accounts:profile"), follow=True).text
    assert "Ihre Organisation ist auf ihren BCP-Mandanten „Classics Inc. BCP“ gewechselt" in page


def test_a_cold_sign_in_page_says_nothing_of_any_pair(client, synced, switch):
    notices.pair_message_set(mapping=synced, text="Work from the BCP tenant until noon.", actor=Actor.system(),
                             tenant=synced.primary)
    switch(synced)
    page = client.get(reverse("accounts:login") + "?reason=switched").text
    assert "Work from the BCP tenant" not in page and "Classics Inc. BCP" not in page
    assert "you land on the tenant that is active now" in page


# --- the pair message ---------------------------------------------------------------------------------------------


@pytest.fixture
def roles(tenant, other_tenant):
    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(tenant, SUPERVISOR), permissions=[VIEW_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(other_tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())


@pytest.fixture
def with_message(mapping, roles):
    notices.pair_message_set(mapping=mapping, text="Use the backup phone line.", actor=Actor.system(),
                             tenant=mapping.primary)
    return mapping


# Personas: anonymous, agent, supervisor (View), tenant_admin (Edit), other_admin (Edit on an unpaired tenant), rep.
# The TM twins (the pair's primary in the path) are for the account representative only; the customer's own
# administrator, who may write the message in Admin, gets 404 there like every other non-representative.
URLS = [
    Row("enablement:message_set", POST, answers(302, 404, 403, 302, 404, 404), data={"text": "Changed."}),
    Row("enablement:message_remove", GET, answers(302, 404, 403, 200, 404, 404)),
    Row("enablement:message_remove", POST, answers(302, 404, 403, 302, 404, 404)),
    Row("enablement:tm_message_set", POST, answers(302, 404, 404, 404, 404, 302), data={"text": "Changed."}),
    Row("enablement:tm_message_remove", GET, answers(302, 404, 404, 404, 404, 200)),
    Row("enablement:tm_message_remove", POST, answers(302, 404, 404, 404, 404, 302)),
]
TM_MESSAGE = {"enablement:tm_message_set", "enablement:tm_message_remove"}


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_message_url_for_every_persona(as_persona, with_message, row, persona):
    tm = row.name in TM_MESSAGE
    ask(as_persona(persona), row, persona, args=[with_message.primary_id] if tm else [])
    changed = persona == ("rep" if tm else "tenant_admin")
    text = PairMessage.objects.filter(mapping=with_message).values_list("text", flat=True).first()
    if not changed:
        assert text == "Use the backup phone line."
    elif row.method == POST:
        assert text == ("Changed." if row.name.endswith("message_set") else None)


def test_an_administrator_writes_edits_and_removes_the_message_with_a_confirmation(client, tenant_admin, mapping,
                                                                                    roles):
    client.force_login(tenant_admin)
    page = client.get(reverse("enablement:page")).text
    assert "No message is shown." in page and 'name="text"' in page
    response = _post(client, reverse("enablement:message_set"), {"text": "  Use the backup phone line.\r\n"},
                     follow=True)
    assert "The message is saved." in response.text
    assert 'data-testid="pair-message"' in response.text and "Use the backup phone line." in response.text
    assert f"Message from {tenant_admin.get_full_name()}, <time" in response.text  # the name, not "alice"
    _post(client, reverse("enablement:message_set"), {"text": "Use line 2."})
    _post(client, reverse("enablement:message_set"), {"text": "Use line 2."})  # the same again: nothing to record
    set_events = audit_events().filter(action="enablement.pair_message_set").order_by("created_at", "pk")
    assert [(e.changes["text"], e.changes["previous"]) for e in set_events] == [
        ("Use the backup phone line.", None), ("Use line 2.", "Use the backup phone line.")]
    assert set_events[0].actor == tenant_admin and set_events[0].tenant == mapping.primary

    confirm = client.get(reverse("enablement:message_remove"))
    assert confirm.status_code == 200 and "<title>Remove the message" in confirm.text
    assert "Use line 2." in confirm.text and ">Remove the message</button>" in confirm.text
    assert PairMessage.objects.exists()  # asking changed nothing
    response = _post(client, reverse("enablement:message_remove"), follow=True)
    assert "The message is removed" in response.text and 'data-testid="pair-message"' not in response.text
    assert not PairMessage.objects.exists()
    assert audit_events().get(action="enablement.pair_message_remove").changes == {"text": "Use line 2."}
    # Removing again says so instead of failing.
    assert "no message to remove" in _post(client, reverse("enablement:message_remove"), follow=True).text


@pytest.mark.parametrize(("text", "says"), [
    ("", "Write the message, or remove it"),
    ("   \n ", "Write the message, or remove it"),
    ("x" * (notices.MESSAGE_MAX + 1), "Ensure this value has at most 500 characters"),
    ("Bell \x07 here", "control characters"),
    ("NUL \x00 here", "Null characters are not allowed"),
])
def test_a_message_that_cannot_be_shown_is_refused_and_nothing_changes(client, tenant_admin, with_message, text,
                                                                       says):
    client.force_login(tenant_admin)
    response = client.post(reverse("enablement:message_set"), {"text": text})
    assert response.status_code == 400 and says in response.text
    assert PairMessage.objects.get().text == "Use the backup phone line."
    assert audit_events().filter(action="enablement.pair_message_set").count() == 1


def test_the_service_refuses_what_the_form_would(mapping):
    with pytest.raises(notices.PairMessageError, match="under 500 characters"):
        notices.pair_message_set(mapping=mapping, text="x" * 501, actor=Actor.system(), tenant=mapping.primary)
    assert not PairMessage.objects.exists()


def test_a_representative_writes_edits_and_removes_the_message_from_tm_on_the_customers_behalf(client, rep, synced,
                                                                                            switch):
    client.force_login(rep)
    url = reverse("enablement:tm_page", args=[synced.primary_id])
    page = client.get(url).text
    form = page.split('data-testid="pair-message-form"')[0].rsplit("<form", 1)[1]
    assert "No message is shown." in page and 'name="text"' in page
    assert f'action="{reverse("enablement:tm_message_set", args=[synced.primary_id])}"' in form
    response = _post(client, reverse("enablement:tm_message_set", args=[synced.primary_id]),
                     {"text": " Use the backup phone line.\r\n"}, follow=True)
    assert response.request["PATH_INFO"] == url
    assert "The message is saved." in response.text and "Use the backup phone line." in response.text
    assert 'href="{}"'.format(reverse("enablement:tm_message_remove", args=[synced.primary_id])) in response.text
    event = audit_events().get(action="enablement.pair_message_set")
    assert event.actor == rep and event.tenant == synced.primary
    assert event.changes == {"text": "Use the backup phone line.", "previous": None, "on_behalf": True}
    # The pair's users see it, named as written by the representative.
    andy_page = _sign_in(Client()).text
    assert "Use the backup phone line." in andy_page and f"Message from {rep.display_name}, <time" in andy_page

    # From the BCP tenant's page too, while it is active: the same message for the pair, audited in its log.
    switch(synced)
    bcp_url = reverse("enablement:tm_page", args=[synced.secondary_id])
    assert "Use the backup phone line." in client.get(bcp_url).text
    _post(client, reverse("enablement:tm_message_set", args=[synced.secondary_id]), {"text": "Use line 2."})
    assert PairMessage.objects.get(mapping=synced).text == "Use line 2."
    assert audit_events().filter(action="enablement.pair_message_set").latest("created_at").tenant == synced.secondary

    remove_url = reverse("enablement:tm_message_remove", args=[synced.secondary_id])
    confirm = client.get(remove_url)
    assert confirm.status_code == 200
    assert "<title>Remove the message · Classics Inc. BCP · BC Enablement" in confirm.text
    assert "Use line 2." in confirm.text and ">Remove the message</button>" in confirm.text
    assert f'href="{bcp_url}"' in confirm.text and reverse("tenants:list") in confirm.text  # back to TM, not Admin
    assert PairMessage.objects.exists()  # asking changed nothing
    response = _post(client, remove_url, follow=True)
    assert response.request["PATH_INFO"] == bcp_url
    assert "The message is removed" in response.text and not PairMessage.objects.exists()
    event = audit_events().get(action="enablement.pair_message_remove")
    assert event.actor == rep and event.tenant == synced.secondary
    assert event.changes == {"text": "Use line 2.", "on_behalf": True}
    assert "no message to remove" in _post(client, remove_url, follow=True).text
    assert "no message to remove" in client.get(remove_url, follow=True).text


@pytest.mark.parametrize(("text", "says"), [
    ("   \n ", "Write the message, or remove it"),
    ("x" * (notices.MESSAGE_MAX + 1), "Ensure this value has at most 500 characters"),
    ("Bell \x07 here", "control characters"),
])
def test_a_representatives_message_that_cannot_be_shown_is_refused_and_nothing_changes(client, rep, with_message,
                                                                                       text, says):
    client.force_login(rep)
    response = client.post(reverse("enablement:tm_message_set", args=[with_message.primary_id]), {"text": text})
    assert response.status_code == 400 and says in response.text
    assert "<title>Classics Inc. · BC Enablement" in response.text  # the TM page again, with what to correct
    assert PairMessage.objects.get().text == "Use the backup phone line."
    assert audit_events().filter(action="enablement.pair_message_set").count() == 1


def test_the_tm_message_urls_of_a_tenant_without_a_pair_or_unknown_are_404(client, rep, with_message, other_tenant):
    import uuid

    client.force_login(rep)
    for tenant_id in (other_tenant.pk, uuid.uuid4()):
        assert client.post(reverse("enablement:tm_message_set", args=[tenant_id]), {"text": "x"}).status_code == 404
        assert client.get(reverse("enablement:tm_message_remove", args=[tenant_id])).status_code == 404
        assert client.post(reverse("enablement:tm_message_remove", args=[tenant_id])).status_code == 404
    assert PairMessage.objects.get().text == "Use the backup phone line."


def test_the_tm_message_card_speaks_german(client, rep, with_message):
    rep.language = "de"
    rep.save(update_fields=["language"])
    client.force_login(rep)
    page = client.get(reverse("enablement:tm_page", args=[with_message.primary_id])).text
    assert "Nachricht an alle im Paar" in page and "Nachricht speichern" in page
    confirm = client.get(reverse("enablement:tm_message_remove", args=[with_message.primary_id])).text
    assert "Sie handeln im Auftrag des Kunden: Das Entfernen wird im Audit-Protokoll" in confirm


def test_a_supervisor_reads_the_message_but_gets_no_form(client, supervisor, with_message):
    client.force_login(supervisor)
    page = client.get(reverse("enablement:page")).text
    assert "Use the backup phone line." in page and 'name="text"' not in page
    assert "Writing a message needs BCP Tenant Enablement Edit" in page


def test_the_message_shows_to_both_tenants_users_and_nobody_else(synced, switch, other_admin):
    notices.pair_message_set(mapping=synced, text="Use the backup phone line.", actor=Actor.system(),
                             tenant=synced.primary)
    on_primary, elsewhere = Client(), Client()
    _sign_in(on_primary)
    elsewhere.force_login(other_admin)
    assert "Use the backup phone line." in on_primary.get(reverse("accounts:profile")).text
    assert "Use the backup phone line." not in elsewhere.get(reverse("accounts:profile")).text

    switch(synced)
    # The session signed out by the switch sees the message on the sign-in page, then on the BCP tenant.
    signed_out = on_primary.get(reverse("accounts:profile"), follow=True).text
    assert 'data-testid="pair-message"' in signed_out and "Use the backup phone line." in signed_out
    page = _sign_in(on_primary).text
    assert "Use the backup phone line." in page and 'data-testid="bcp-banner"' in page
    assert "Use the backup phone line." not in elsewhere.get(reverse("accounts:profile")).text
    # A browser of another tenant signed in after one of the pair: the pair's message is gone with the pair.
    on_primary.post(reverse("accounts:logout"))
    on_primary.post(reverse("accounts:login"), {"username": "nora", "password": PASSWORD})
    assert "Use the backup phone line." not in on_primary.get(reverse("accounts:profile")).text


def test_an_administrator_on_the_bcp_tenant_writes_it_too(client, synced, switch):
    switch(synced)
    _sign_in(client, "alice")
    assert person("alice", copy=True).tenant == synced.secondary
    _post(client, reverse("enablement:message_set"), {"text": "Written on the BCP side."})
    assert PairMessage.objects.get(mapping=synced).text == "Written on the BCP side."
    assert audit_events().get(action="enablement.pair_message_set").tenant == synced.secondary
    # Both tenants' users see it: a primary-side user after the switch back.
    switch(synced, to_side=PRIMARY, by="alice")
    assert "Written on the BCP side." in _sign_in(Client(), "andy").text


def _support(client, rep, tenant):
    """The representative signed in and supporting `tenant` (Impersonate & Support); its Admin home."""
    client.force_login(rep)
    assert client.post(reverse("support:start", args=[tenant.pk])).status_code == 302
    return client.get(reverse("accounts:admin_home")).text


def test_a_representative_supporting_a_tenant_of_the_pair_sees_what_its_users_see(client, rep, synced, switch,
                                                                                  other_tenant):
    notices.pair_message_set(mapping=synced, text="Use the backup phone line.", actor=Actor.system(),
                             tenant=synced.primary)
    # The primary, while it is active: the message, and no word of a backup.
    page = _support(client, rep, synced.primary)
    assert 'data-testid="pair-message"' in page and "Use the backup phone line." in page
    assert 'data-testid="bcp-banner"' not in page
    # The BCP tenant before the switch: the message, and that it is the backup, not active.
    page = _support(client, rep, synced.secondary)
    assert "Use the backup phone line." in page
    banner = page.split('data-testid="bcp-banner"')[1].split("</div>")[0]
    assert "You are working in <strong>Classics Inc. BCP</strong>, the backup (BCP) system of “Classics Inc.”" in banner
    assert "It is not active: the users of the pair work in “Classics Inc.”." in banner

    switch(synced)
    # The BCP tenant while it is active: the banner its users see, said to the representative.
    page = _support(client, rep, synced.secondary)
    assert "Use the backup phone line." in page
    banner = page.split('data-testid="bcp-banner"')[1].split("</div>")[0]
    assert "It is active: the users of the pair work here until their administrators switch back" in banner
    # Another tenant's support shows nothing of the pair.
    page = _support(client, rep, other_tenant)
    assert "Use the backup phone line." not in page and 'data-testid="bcp-banner"' not in page
    # After the support ends, the representative's own pages are no tenant's.
    client.post(reverse("support:end"))
    page = client.get(reverse("accounts:profile")).text
    assert "Use the backup phone line." not in page and 'data-testid="bcp-banner"' not in page


def test_the_representatives_bcp_banner_speaks_german(client, rep, synced, switch):
    rep.language = "de"
    rep.save(update_fields=["language"])
    switch(synced)
    page = _support(client, rep, synced.secondary)
    banner = page.split('data-testid="bcp-banner"')[1].split("</div>")[0]
    assert ("Sie arbeiten in <strong>Classics Inc. BCP</strong>, dem Backup-System (BCP) von „Classics Inc.“. "
            "Es ist aktiv") in banner


def test_the_message_costs_one_cached_read_per_page(client, synced, settings):
    with capture_on_commit_everywhere(execute=True):
        notices.pair_message_set(mapping=synced, text="Use line 2.", actor=Actor.system(), tenant=synced.primary)
    _sign_in(client)

    def message_queries():
        with CaptureQueriesEverywhere() as captured:
            assert "Use line 2." in client.get(reverse("accounts:profile")).text
        return [q for q in captured.captured_queries if "enablement_pairmessage" in q["sql"]]

    # Without Redis every page asks the database once; with it, the sign-in page has filled the cache already.
    assert len(message_queries()) == (1 if isinstance(caches["routing"], DummyCache) else 0)
    settings.CACHES = {**settings.CACHES, "routing": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                      "LOCATION": "pair-message-test"}}
    caches["routing"].clear()
    message_queries()  # the first read fills the cache
    assert message_queries() == []


# --- the email to everyone ----------------------------------------------------------------------------------------


def test_a_switch_emails_everyone_of_the_pair_once_in_their_language(synced, switch, tasks_run_here, other_admin):
    _emails(andy="andy@classics.example.com", sam="sam@classics.example.com")
    User.objects.filter(username="andy").update(language="de")
    UserFactory(username="gone", tenant=synced.primary, email="gone@classics.example.com", is_active=False)
    User.objects.filter(pk=other_admin.pk).update(email="nora@northwind.example.com")
    mail.outbox.clear()
    switch(synced, reason="The North America data centre is down.")
    by_address = {}
    for message in mail.outbox:
        by_address.setdefault(message.to[0], []).append(message)
    # Alice gets the administrators' email only; nobody outside the pair, nobody switched off, nobody twice.
    assert sorted(by_address) == ["alice@classics.example.com", "andy@classics.example.com",
                                  "sam@classics.example.com"]
    assert all(len(messages) == 1 for messages in by_address.values())
    assert by_address["alice@classics.example.com"][0].subject == "Classics Inc. switched to its BCP tenant"
    sam = by_address["sam@classics.example.com"][0]
    assert sam.subject == "Classics Inc. switched to its BCP tenant: you now sign in to “Classics Inc. BCP”"
    assert "Alice Admin switched Classics Inc. to its BCP tenant “Classics Inc. BCP” at " in sam.body
    assert "Reason: The North America data centre is down." in sam.body and "on My Profile" in sam.body
    andy = by_address["andy@classics.example.com"][0]
    assert "Sie melden sich jetzt bei „Classics Inc. BCP“ an" in andy.subject and "Grund:" in andy.body
    assert Switch.objects.get().everyone_mailed_at is not None

    mail.outbox.clear()
    switch(synced, to_side=PRIMARY)
    sam = next(m for m in mail.outbox if m.to == ["sam@classics.example.com"])
    assert sam.subject == "Classics Inc. is active again: you now sign in to “Classics Inc.”"


def test_the_email_is_never_sent_twice_for_one_switch(synced, switch):
    _emails(sam="sam@classics.example.com")
    switch(synced)
    switch_id = Switch.objects.get().pk
    mail.outbox.clear()
    assert notices.switch_mail_everyone(switch_id=switch_id).sent == 1
    assert notices.switch_mail_everyone(switch_id=switch_id).skipped == "sent already"
    assert [m.to for m in mail.outbox] == [["sam@classics.example.com"]]


def test_a_switch_undone_before_its_email_went_is_not_announced(synced, switch):
    _emails(sam="sam@classics.example.com")
    switch(synced)
    switch(synced, to_side=PRIMARY)
    first = Switch.objects.order_by("pk").first()
    mail.outbox.clear()
    assert notices.switch_mail_everyone(switch_id=first.pk).skipped == "switched again"
    assert mail.outbox == []


def test_turning_the_email_off_on_my_profile_is_kept_audited_and_obeyed(client, synced, switch, tasks_run_here):
    _emails(andy="andy@classics.example.com", sam="sam@classics.example.com")
    _sign_in(client)
    page = client.get(reverse("accounts:profile")).text
    assert 'data-testid="switch-emails-form"' in page
    assert CHECKED in page  # on unless turned off
    response = client.post(reverse("accounts:profile_switch_emails"), {}, follow=True)
    assert "You will not be emailed when your organization switches tenant." in response.text
    assert CHECKED not in response.text
    # Every account of the person: their own and the sync's copy of it on the BCP tenant.
    assert list(User.objects.filter(username="andy").values_list("switch_emails", flat=True)) == [False, False]
    event = audit_events().get(action="user.switch_emails_change")
    assert event.actor == person("andy") and event.changes == {"from": True, "to": False}
    client.post(reverse("accounts:profile_switch_emails"), {})  # the same again: nothing to record
    assert audit_events().filter(action="user.switch_emails_change").count() == 1

    # A copy the sync made with the emails on does not undo the person's choice, and says so on My Profile.
    User.objects.filter(username="andy", is_bcp_copy=True).update(switch_emails=True)
    mail.outbox.clear()
    switch(synced)
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@classics.example.com", "sam@classics.example.com"]
    _sign_in(client)
    assert CHECKED not in client.get(reverse("accounts:profile")).text

    # Turned on again from the BCP tenant, it holds for the switch back.
    _sign_in(client)
    client.post(reverse("accounts:profile_switch_emails"), {"switch_emails": "on"})
    mail.outbox.clear()
    switch(synced, to_side=PRIMARY)
    assert "andy@classics.example.com" in {m.to[0] for m in mail.outbox}


def test_a_language_set_after_the_last_sync_holds_on_the_bcp_tenant_after_a_switch(client, synced, switch,
                                                                                    configured):
    """The sync is paused while the BCP tenant is active, and the account there is a copy: My Profile writes the
    language on every account of the person, so the copy speaks German at once."""
    _sign_in(client)
    client.post(reverse("accounts:profile"), {"language": "de"})
    assert list(User.objects.filter(username="andy").values_list("is_bcp_copy", "language")
                .order_by("is_bcp_copy")) == [(False, "de"), (True, "de")]
    event = audit_events().get(action="user.language_change")
    assert event.actor == person("andy") and event.changes == {"from": "en", "to": "de"}
    assert User.objects.get(username="sam", is_bcp_copy=True).language == "en"  # nobody else's

    # The forward sync copies it as before: nothing of Andy's left to write, and the copy stays German.
    assert run_sync(configured).status == SyncRun.Status.SUCCEEDED
    assert person("andy", copy=True).language == "de"

    switch(synced)
    client.post(reverse("accounts:logout"))
    page = _sign_in(client).text
    assert '<html lang="de">' in page and "Ihre Organisation ist auf ihren BCP-Mandanten gewechselt." in page

    # Set back to English on the BCP tenant, it holds on the primary after the switch back.
    client.post(reverse("accounts:profile"), {"language": "en"})
    assert person("andy").language == "en"
    switch(synced, to_side=PRIMARY)
    assert '<html lang="en">' in _sign_in(client).text


@pytest.mark.parametrize("persona", ["agent", "tenant_admin", "other_admin", "rep"])
def test_everyone_signed_in_can_set_their_own_email_choice(as_persona, persona, request):
    client = as_persona(persona)
    response = client.post(reverse("accounts:profile_switch_emails"), {})
    assert response.status_code == 302
    user = request.getfixturevalue(persona)
    user.refresh_from_db()
    assert user.switch_emails is False


def test_anonymous_cannot_set_an_email_choice(client, agent):
    response = client.post(reverse("accounts:profile_switch_emails"), {})
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    agent.refresh_from_db()
    assert agent.switch_emails is True


def mail_server_goes_down(settings):
    """Django's SMTP backend pointed at a port where nothing listens: every email fails to connect, at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2


@pytest.fixture
def mail_server_down(settings):
    mail_server_goes_down(settings)


def test_a_mail_server_that_does_not_answer_does_not_fail_the_switch(client, synced, tasks_run_here,
                                                                     mail_server_down, settings,
                                                                     django_capture_on_commit_callbacks):
    _emails(sam="sam@classics.example.com")
    client.force_login(person("alice"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enablement:switch"), {"bcp_active": "on", "passkey": PASSKEY,
                                                               "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    synced.refresh_from_db()
    assert synced.active_side == BCP
    switch = Switch.objects.get()
    assert switch.everyone_mailed_at is None  # given back for the task's retry

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    mail.outbox.clear()
    assert notices.switch_mail_everyone(switch_id=switch.pk).sent == 1
    assert [m.to for m in mail.outbox] == [["sam@classics.example.com"]]


def test_a_task_queue_that_does_not_answer_does_not_fail_the_switch(synced, switch):
    from tests.broker import broker_down

    _emails(sam="sam@classics.example.com")
    mail.outbox.clear()
    with broker_down():
        result = switch(synced)
    assert result.changed
    synced.refresh_from_db()
    assert synced.active_side == BCP
    # The administrators' email does not wait for the queue.
    assert [m.to for m in mail.outbox] == [["alice@classics.example.com"]]
    assert Switch.objects.get().everyone_mailed_at is None
