"""German is complete for the foundation's pages: every text they use has a German translation that is
compiled (not fuzzy). Re-running `make messages` marks new texts; this test names the ones still missing."""

import re
from pathlib import Path

import polib
import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"

FOUNDATION = {
    "templates/accounts/profile.html",
    "templates/accounts/sign_in.html",
    "templates/tenants/tenant_list.html",
    "templates/tenants/tenant_create.html",
    "templates/tenants/partials/_tenant_table.html",
    "templates/audit/audit_list.html",
    "templates/audit/partials/_audit_table.html",
    "templates/errors/error.html",
    "templates/includes/pagination.html",
    "templates/includes/tm_sidebar.html",
    "accounts/forms.py",
    "tenants/forms.py",
    "tenants/services.py",
    "audit/forms.py",
    "bcp_project/errors.py",
}


def test_every_text_of_the_foundation_pages_has_german():
    catalogue = polib.pofile(str(CATALOGUE))
    missing = []
    for entry in catalogue:
        if entry.obsolete or not any(path in FOUNDATION for path, _line in entry.occurrences):
            continue
        translated = all(entry.msgstr_plural.values()) if entry.msgid_plural else bool(entry.msgstr)
        if not translated or "fuzzy" in entry.flags:
            missing.append(entry.msgid)
    assert not missing, "Add German for: " + "; ".join(missing)


def test_every_text_of_the_product_has_german():
    """The whole catalogue, not only the foundation: a new page whose texts are not translated fails here."""
    catalogue = polib.pofile(str(CATALOGUE))
    missing = [entry.msgid for entry in catalogue if not entry.obsolete and (
        "fuzzy" in entry.flags or not (all(entry.msgstr_plural.values()) if entry.msgid_plural else entry.msgstr))]
    assert not missing, "Add German (make messages, then fill the msgstr) for: " + "; ".join(missing[:20])


def test_the_compiled_catalogue_is_not_older_than_its_source():
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "run `make messages`"
    assert polib.mofile(str(compiled)).find("Mein Profil", by="msgstr") is not None
    source = polib.pofile(str(CATALOGUE))
    mo = {entry.msgid: entry.msgstr for entry in polib.mofile(str(compiled))}
    stale = [e.msgid for e in source.translated_entries() if not e.msgid_plural and mo.get(e.msgid) != e.msgstr]
    assert not stale, "The .mo file lags behind the .po file; run `make messages`: " + "; ".join(stale[:5])


def test_german_says_mandant_and_kundenbetreuer_everywhere():
    """One word per thing: tenant is "Mandant", BCP tenant "BCP-Mandant", account representative "Kundenbetreuer",
    BC Enablement "BC-Aktivierung", the plan "Notfallplan" (STYLE.md); a half-English "BCP-Tenant" or "Account
    Representative" next to them reads like two things."""
    catalogue = polib.pofile(str(CATALOGUE))
    english = re.compile(r"\bTenants?\b|Account Representative|account representative|Enablement|Impersonate"
                         r"|Business Continuity"
                         # A compound is one word: "BC-Aktivierung", as "BCP-Mandant".
                         r"|BC\s+Aktivierung")
    left = [text for entry in catalogue if not entry.obsolete
            for text in [entry.msgstr, *entry.msgstr_plural.values()]
            if english.search(re.sub(r"%\(\w+\)s", "", text))]
    assert not left, "English terms in German: " + " | ".join(left[:5])


def test_german_writes_a_space_before_the_percent_sign():
    """ "100 %" in German, as DIN 5008 writes it ("%%" is the sign in a python-format text)."""
    catalogue = polib.pofile(str(CATALOGUE))
    tight = [text for entry in catalogue if not entry.obsolete
             for text in [entry.msgstr, *entry.msgstr_plural.values()] if re.search(r"[\w)]%%", text)]
    assert not tight, "No space before %: " + " | ".join(tight[:5])


def test_no_sentence_ends_with_a_tenants_name():
    """A tenant's name may end in a period ("Classics Inc."), so a sentence that ends with it reads "Inc..": the
    name is quoted or stands inside the sentence, in English and in German."""
    catalogue = polib.pofile(str(CATALOGUE))
    at_end = re.compile(r"%\((tenant|primary|bcp|active|secondary|partner)\)s(</strong>)?\.")
    ending = [text for entry in catalogue if not entry.obsolete
              for text in [entry.msgid, entry.msgstr, *entry.msgstr_plural.values()] if at_end.search(text)]
    assert not ending, "A sentence ends with a tenant's name: " + " | ".join(ending[:5])


# --- pages, rendered for a German-speaking tenant administrator -----------------------------------


def _visible_text(response) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def german_admin(client, tenant_admin):
    tenant_admin.language = "de"
    tenant_admin.save(update_fields=["language"])
    client.force_login(tenant_admin)
    return client


GERMAN_PAGES = [
    pytest.param("/admin/",
                 ["Übersicht", "Rollen und Berechtigungen", "Benutzer importieren", "Öffnungszeiten",
                  "Kontaktpunkte", "Dispositionen", "Nicht-verfügbar-Codes", "Dieser Mandant", "Ihre Rolle",
                  "Mein Profil", "Abmelden", "Notfallplan (BCP)"],
                 ["Overview", "Roles and Permissions", "Import users", "Hours of Operation", "Points of Contact",
                  "Dispositions", "Unavailable Codes", "This tenant", "Your role", "My Profile", "Sign out",
                  "Business Continuity"],
                 id="admin"),
    pytest.param("accounts:role_list",
                 ["Rolle erstellen", "Rollen suchen", "Beschreibung", "3 Rollen"],
                 ["Create role", "Search roles", "Description", "3 roles", "A role decides"],
                 id="roles"),
    pytest.param("contactcenter:skill_list",
                 ["Skill hinzufügen", "Kanal", "Richtung", "Eingehend", "Telefon", "0 Einträge",
                  "Noch keine Einträge unter Skills.", "Ein Skill ist die Warteschlange"],
                 ["Add skill", "Channel", "Direction", "Inbound", "Phone", "0 entries", "No entries",
                  "A skill is the queue"],
                 id="skills"),
    pytest.param("continuity:plan",
                 ["Notfallplan", "Plan anlegen", "Übungen", "Versionen"],
                 ["Continuity Plan", "Start the plan", "Drills", "Versions"],
                 id="continuity-plan"),
    pytest.param("continuity:drills",
                 ["Übungen", "Übung erfassen"],
                 ["Drills", "Record a drill"],
                 id="continuity-drills"),
]


@pytest.mark.parametrize(("page", "german", "english"), GERMAN_PAGES)
def test_admin_pages_speak_german_to_a_german_administrator(german_admin, page, german, english):
    response = german_admin.get(page if page.startswith("/") else reverse(page))
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "de"
    text = _visible_text(response)
    assert [word for word in german if word not in text] == [], "German missing"
    assert [word for word in english if word in text] == [], "English left on the page"

