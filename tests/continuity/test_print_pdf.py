"""The print view and the PDF: the whole plan on paper, with the tenant, the version and the date on every page,
German text intact, and the synced copy on the BCP tenant saying where it came from."""

import re
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from continuity.models import CriticalSystem, EmergencyContact, PlanVersion, Procedure
from continuity.plan import services
from continuity.plan.sections import SECTIONS
from continuity.versions.pdf import plan_pdf
from continuity.versions.selectors import Edition
from tests.continuity.test_versions import (  # noqa: F401
    bcp_reader,
    bcp_tenant_fixture,
    configured,
    mapping,
    sync_enabled,
    synced_run,
)

SYSTEM, CONTACT = CriticalSystem.ENTITY_TYPE, EmergencyContact.ENTITY_TYPE
GERMAN = "Notstrom für Büro & Küche <Süd> – „Größe“ ß"
# A time as every page writes it, in every language (bcp_project.templatetags.times): "2026-12-06 14:02 UTC".
WHEN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def _pdf_pages(response) -> list[str]:
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content) if response.streaming else response.content
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


@pytest.fixture
def german_rows(tenant, admin_actor):
    services.section_item_create(tenant=tenant, section_key=SYSTEM, actor=admin_actor,
                                 values={"name": GERMAN, "failover": "Zweite Leitung über Köln\nUSV im Keller",
                                         "recovery_time_goal": 240})
    services.section_item_create(tenant=tenant, section_key=CONTACT, actor=admin_actor,
                                 values={"name": "Jörg Weiß", "phone": "+49 30 1234", "email": "joerg@example.de"})
    return tenant


# --- the print view ---------------------------------------------------------------------------------------

def test_the_print_view_has_the_print_stylesheet_the_header_and_the_whole_plan(agent_client, german_rows):
    response = agent_client.get(reverse("continuity:print"))
    page = response.text
    assert response.status_code == 200 and "<title>Print · Continuity Plan · bcp</title>" in page
    assert re.search(r'<link rel="stylesheet" href="/static/css/continuity-print[^"]*\.css">', page)
    assert re.search(r'<script src="/static/js/continuity-print[^"]*\.js" defer>', page)
    header = page.split('data-testid="print-header">')[1].split("</header>")[0]
    version = PlanVersion.objects.get(tenant=german_rows, number=3)
    assert "Classics Inc." in header and "Continuity plan" in header and "Printed " in header
    edition = page.split('data-testid="print-edition">')[1].split("</p>")[0]
    assert edition.startswith("Version 3 of ") and str(version.created_at.year) in edition
    # Every section, in order, each with a footer naming the tenant and the version for every printed page.
    positions = [page.index(f">{section.title}</h2>") for section in SECTIONS]
    assert positions == sorted(positions)
    assert page.count('data-testid="section-footer"') == len(SECTIONS)
    assert page.count(f"Classics Inc. · {edition}") == len(SECTIONS)
    assert "Notstrom für Büro &amp; Küche &lt;Süd&gt; – „Größe“ ß" in page
    assert "Zweite Leitung über Köln<br>USV im Keller" in page and "4 hours" in page
    assert 'href="mailto:joerg@example.de"' in page
    assert "Switch to the BCP tenant on BC Enablement" in page  # a choice shown by its label
    assert 'data-print' in page and '<a class="button" href="/plan/plan.pdf" data-testid="pdf-link">' in page
    assert "<script>" not in page and "style=" not in page
    assert 'aria-current="page">Print</a>' in page


def test_the_print_stylesheet_hides_the_navigation_and_breaks_pages_before_sections():
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/continuity-print.css"), encoding="utf-8").read()
    rules = css.split("@media print")[1]
    for hidden in (".site-header", ".sidebar", ".plan-tabs", ".print-toolbar", ".banner"):
        assert hidden in rules.split("display: none")[0]
    assert ".snapshot-section { break-before: page;" in rules
    assert 'content: " (" attr(href) ")"' in rules


def test_printing_an_older_version_says_so_and_links_its_own_pdf(agent_client, german_rows):
    page = agent_client.get(reverse("continuity:version_print", args=[1])).text
    assert 'data-testid="not-current"' in page and "Version 1 of " in page
    assert GERMAN.split(" ")[0] not in page  # it did not have that system yet
    assert 'href="/plan/versions/1/plan.pdf"' in page and 'href="/plan/print/"' in page


def test_an_empty_plan_says_there_is_nothing_to_print(client, other_admin):
    client.force_login(other_admin)
    page = client.get(reverse("continuity:print")).text
    assert 'data-testid="print-empty"' in page and "No version yet" in page


def test_the_print_view_reads_in_german(client, agent, german_rows):
    agent.language = "de"
    agent.save(update_fields=["language"])
    client.force_login(agent)
    page = client.get(reverse("continuity:print")).text
    assert '<html lang="de">' in page and "Notstrom für Büro" in page
    assert WHEN.search(page.split('data-testid="print-edition">')[1].split("</p>")[0])
    assert re.search(r"Gedruckt am <time[^>]*>\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC</time>", page)
    with translation.override("de"):
        assert str(SECTIONS[0].title) in page


# --- the PDF ------------------------------------------------------------------------------------------------

def test_the_pdf_downloads_with_its_name_and_holds_the_plan(agent_client, german_rows):
    response = agent_client.get(reverse("continuity:pdf"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="continuity-plan-classics-inc-v3.pdf"'
    pages = _pdf_pages(response)
    text = "\n".join(pages)
    assert "Continuity plan" in pages[0] and "Classics Inc." in pages[0] and "Printed " in pages[0]
    for name in ("Network services", "IVR", "Electrical power", "Jörg Weiß", "Notstrom für Büro & Küche <Süd>"):
        assert name in text, name
    assert "„Größe“ ß" in text and "Zweite Leitung über Köln" in text and "4 hours" in text
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in page  # a footer on every page
        assert "Classics Inc. · Continuity plan" in page and "Version 3 of " in page  # and a header
    # Each section starts on a new page: its title is the first line there.
    starts = {section.title: [i for i, page in enumerate(pages) if page.lstrip().startswith(str(section.title))]
              for section in SECTIONS}
    assert all(starts.values()), starts
    assert sorted(first for first, *_ in starts.values()) == [first for first, *_ in starts.values()]


def test_an_older_versions_pdf_is_that_version(agent_client, german_rows):
    response = agent_client.get(reverse("continuity:version_pdf", args=[1]))
    assert response["Content-Disposition"] == 'attachment; filename="continuity-plan-classics-inc-v1.pdf"'
    text = "\n".join(_pdf_pages(response))
    assert "Version 1 of " in text and "This is an older version, not the current plan." in text
    assert "IVR" in text and "Jörg Weiß" not in text


def test_markup_typed_into_the_plan_prints_as_itself(tenant):
    snapshot = {"sections": {SYSTEM: [{"id": 1, "name": "<b>Bold</b> & <br/> <font>", "values": {}}]}}
    edition = Edition(tenant=tenant, snapshot=snapshot, number=7)
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(plan_pdf(edition=edition, printed_at=_now()))).pages)
    assert "<b>Bold</b> & <br/> <font>" in text


def test_the_pdf_speaks_the_readers_language(client, agent, german_rows):
    agent.language = "de"
    agent.save(update_fields=["language"])
    client.force_login(agent)
    pages = _pdf_pages(client.get(reverse("continuity:pdf")))
    assert all(WHEN.search(page) for page in pages)  # the version's time, with its zone, in every page header
    text = "\n".join(pages)
    with translation.override("de"):
        assert str(SECTIONS[0].title) in text and str(Procedure.Kind.DETECTION.label) in text


def _now():
    from django.utils import timezone

    return timezone.now()


# --- the BCP tenant -----------------------------------------------------------------------------------------

def test_on_the_bcp_tenant_the_print_view_names_the_primary_and_the_last_sync(client, bcp_reader,  # noqa: F811
                                                                              synced_run):  # noqa: F811
    client.force_login(bcp_reader)
    page = client.get(reverse("continuity:print")).text
    edition = page.split('data-testid="print-edition">')[1].split("</p>")[0]
    assert edition.startswith("Copied from Classics Inc. by the sync, ")
    assert str(synced_run.finished_at.year) in edition and "Version" not in edition
    assert "Network services" in page and "Classics Inc. BCP" in page


def test_on_the_bcp_tenant_the_pdf_is_the_synced_copy(client, bcp_reader, synced_run):  # noqa: F811
    client.force_login(bcp_reader)
    response = client.get(reverse("continuity:pdf"))
    day = synced_run.finished_at.date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="continuity-plan-classics-inc-bcp-copy-{day}.pdf"'
    pages = _pdf_pages(response)
    assert all("Copied from Classics Inc. by the sync, " in page for page in pages)
    assert "Network services" in "\n".join(pages)


def _prose(sentences: int) -> str:
    return " ".join(f"Step {n:04d}: call the carrier, confirm the failover of the trunk and note the time."
                    for n in range(1, sentences + 1))


# The header and footer every page carries; a text that flows on to the next page runs through them.
_PAGE_FURNITURE = re.compile(r"Classics Inc\. · Continuity plan Version \d+ of .*? Printed .*? Page \d+ of \d+ ?")


def test_a_long_text_flows_across_pages_whole_in_every_versions_pdf(agent_client, tenant, admin_actor):
    """One field of ordinary prose taller than a page (about 4,100 characters, and 100,000) prints in full."""
    ivr = CriticalSystem.objects.get(tenant=tenant, name="IVR")
    short, long = _prose(52), _prose(1220)
    assert len(short) > 4100 and len(long) > 99_900
    services.section_item_update(tenant=tenant, section_key=SYSTEM, obj=ivr, values={"recovery_procedure": short},
                                 actor=admin_actor)
    services.section_item_update(tenant=tenant, section_key=SYSTEM, obj=ivr, values={"restoration_procedure": long},
                                 actor=admin_actor)
    for url, sentences, at_least in ((reverse("continuity:version_pdf", args=[2]), 52, 5),
                                     (reverse("continuity:pdf"), 1220, 25)):
        response = agent_client.get(url)
        assert response.status_code == 200, url
        pages = _pdf_pages(response)
        words = _PAGE_FURNITURE.sub("", " ".join("\n".join(pages).split()))
        missing = [n for n in range(1, sentences + 1) if f"Step {n:04d}: call the carrier, confirm the failover of " \
                   "the trunk and note the time." not in words]
        assert not missing and len(pages) >= at_least, (url, missing, len(pages))


def test_many_long_steps_and_long_lines_print_whole(tenant):
    """A procedure whose steps fill pages, and a text of long lines and blank lines, print every word."""
    steps = [{"text": f"Step {n:04d} " + "x" * 60 + " " + "word " * 380, "team": ""} for n in range(1, 41)]
    lines = "\n\n".join(f"Line {n:03d} " + "y" * 3000 for n in range(1, 4))  # no space to cut at for 3,000
    snapshot = {"sections": {Procedure.ENTITY_TYPE: [{"id": 1, "name": "Evacuate", "values": {
        "kind": "other", "description": lines, "steps": steps}}]}}
    edition = Edition(tenant=tenant, snapshot=snapshot, number=7)
    pages = [p.extract_text() for p in PdfReader(BytesIO(plan_pdf(edition=edition, printed_at=_now()))).pages]
    words = "".join("\n".join(pages).split())
    assert all(f"Step{n:04d}" in words for n in range(1, 41)) and words.count("word") == 40 * 380
    assert all(f"Line{n:03d}" in words for n in range(1, 4)) and words.count("y") >= 3 * 3000
