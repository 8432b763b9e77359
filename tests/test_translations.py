"""German is complete for the foundation's pages: every text they use has a German translation that is
compiled (not fuzzy). Re-running `make messages` marks new texts; this test names the ones still missing."""

from pathlib import Path

import polib

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


def test_the_compiled_catalogue_is_not_older_than_its_source():
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "run `make messages`"
    assert polib.mofile(str(compiled)).find("Mein Profil", by="msgstr") is not None
    source = polib.pofile(str(CATALOGUE))
    mo = {entry.msgid: entry.msgstr for entry in polib.mofile(str(compiled))}
    stale = [e.msgid for e in source.translated_entries() if not e.msgid_plural and mo.get(e.msgid) != e.msgstr]
    assert not stale, "The .mo file lags behind the .po file; run `make messages`: " + "; ".join(stale[:5])
