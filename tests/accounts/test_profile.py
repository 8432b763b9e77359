"""My Profile: General Information with the Account (tenant) a person is in, and the language choice."""

import pytest
from django.test import Client

from tests.auditlog import audit_events

PROFILE = "/profile/"


def account_of(response) -> str:
    text = response.text
    start = text.index('data-testid="account-name">') + len('data-testid="account-name">')
    return text[start:text.index("</dd>", start)].replace("<strong>", "").replace("</strong>", "").strip()


def test_it_shows_the_tenant_as_account_and_the_persons_details(client, agent):
    client.force_login(agent)
    response = client.get(PROFILE)
    assert response.status_code == 200
    assert account_of(response) == "Classics Inc."
    for value in (agent.get_full_name(), "andy", "andy@example.com", "Agent"):
        assert value in response.text


def test_an_administrator_sees_their_role(client, tenant_admin):
    client.force_login(tenant_admin)
    response = client.get(PROFILE)
    assert account_of(response) == "Classics Inc."
    assert "<dd>Administrator</dd>" in response.text


def test_the_administrator_of_another_tenant_sees_that_tenant(client, other_admin):
    client.force_login(other_admin)
    assert account_of(client.get(PROFILE)) == "Northwind Support"


def test_a_representative_is_platform_staff(client, rep):
    client.force_login(rep)
    response = client.get(PROFILE)
    assert account_of(response) == "Platform staff (no tenant)"
    assert "<dd>Account representative</dd>" in response.text


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in/?next=/profile/")


# --- Language ---------------------------------------------------------------------------------------------


def test_the_language_choice_is_saved_and_audited(client, agent):
    client.force_login(agent)
    response = client.post(PROFILE, {"language": "de"}, follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    agent.refresh_from_db()
    assert agent.language == "de"
    assert "Ihre Sprache ist gespeichert." in response.text
    event = audit_events().get(action="user.language_change")
    assert event.actor == agent
    assert event.changes == {"from": "en", "to": "de"}


def test_saving_the_same_language_again_writes_no_audit_row(client, agent):
    client.force_login(agent)
    client.post(PROFILE, {"language": "en"})
    assert not audit_events().filter(action="user.language_change").exists()


def test_the_language_sticks_across_a_new_sign_in(client, agent, password):
    client.force_login(agent)
    client.post(PROFILE, {"language": "de"})

    fresh = Client()
    response = fresh.post("/sign-in/", {"username": "andy", "password": password}, REMOTE_ADDR="192.0.2.1",
                          follow=True)
    assert response.redirect_chain[-1][0] == PROFILE
    assert '<html lang="de">' in response.text
    assert "Mein Profil" in response.text


@pytest.mark.parametrize("value", ["fr", "", "de-XX", "<script>"])
def test_a_language_we_do_not_offer_is_refused_and_nothing_changes(client, agent, value):
    client.force_login(agent)
    response = client.post(PROFILE, {"language": value})
    assert response.status_code == 400
    assert 'class="error"' in response.text
    agent.refresh_from_db()
    assert agent.language == "en"
    assert not audit_events().filter(action="user.language_change").exists()


def test_a_post_without_any_language_is_refused_with_a_message(client, agent):
    client.force_login(agent)
    response = client.post(PROFILE, {})
    assert response.status_code == 400
    assert 'class="error"' in response.text


def test_it_renders_in_german_for_a_user_who_chose_german(client, agent):
    agent.language = "de"
    agent.save(update_fields=["language"])
    client.force_login(agent)
    response = client.get(PROFILE)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "de"
    assert '<html lang="de">' in response.text
    for german in ("Mein Profil", "Allgemeine Informationen", "Konto", "Benutzername", "Rolle", "Sprache speichern",
                   "Abmelden"):
        assert german in response.text, german
    assert "General Information" not in response.text
    assert account_of(response) == "Classics Inc."


def test_a_representative_reads_tenant_management_in_german(client, rep, tenant):
    rep.language = "de"
    rep.save(update_fields=["language"])
    client.force_login(rep)
    response = client.get("/tm/tenants/")
    for german in ("Mandanten", "Mandant erstellen", "Alle Regionen", "Mandantenverwaltung", "1 Mandant"):
        assert german in response.text, german
