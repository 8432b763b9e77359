"""The plan on paper, in the browser: an agent opens the print view from the plan's tabs, the print layout hides
the navigation and starts each section on a new page with the version at its foot, the Print button opens the
print dialog, and the PDF link downloads a PDF that opens. Axe on the print view and the versions, in English and
in German."""

from io import BytesIO

import pytest
from django.utils import translation
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.models import User
from accounts.roles import AGENT
from audit.services import Actor
from continuity.models import CriticalSystem
from continuity.plan import services
from tests.e2e.conftest import save_screenshot
from tests.factories import PASSWORD, UserFactory, role_of

GERMAN_SYSTEM = "Notstrom für Büro & Küche"


def _german(text):
    with translation.override("de"):
        return translation.gettext(text)


@pytest.fixture
def plan(tenant):
    services.plan_start(tenant=tenant, actor=Actor.system())
    services.section_item_create(tenant=tenant, section_key=CriticalSystem.ENTITY_TYPE, actor=Actor.system(),
                                 values={"name": GERMAN_SYSTEM, "failover": "Zweite Leitung über Köln",
                                         "recovery_time_goal": 240})
    return tenant


@pytest.fixture
def reader(plan):
    return UserFactory(username="andy", tenant=plan, role=role_of(plan, AGENT))


def _visible(page, selector) -> bool:
    return page.locator(selector).first.is_visible()


def test_the_agent_prints_the_plan_and_downloads_the_pdf(page, sign_in, accessible, reader):
    sign_in(page, "andy", PASSWORD)
    page.goto("/plan/versions/")
    expect(page.get_by_role("heading", name="Versions of the plan", level=1)).to_be_visible()
    expect(page.get_by_test_id("version-row")).to_have_count(2)
    accessible(page, where="Versions of the plan (en)")

    page.get_by_role("navigation", name="Continuity plan").get_by_role("link", name="Print", exact=True).click()
    expect(page.get_by_role("heading", name="Continuity plan", level=1)).to_be_visible()
    expect(page.get_by_test_id("print-edition")).to_contain_text("Version 2 of ")
    expect(page.get_by_role("heading", name=GERMAN_SYSTEM, level=3)).to_be_visible()
    accessible(page, where="Print view (en)")

    # The Print button opens the browser's print dialog (stubbed here: a headless browser has none to show).
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.get_by_role("button", name="Print", exact=True).click()
    assert page.evaluate("() => window.__printed") == 1

    # On paper: no navigation, header, sidebar, tabs or buttons; each section on a new page, with the version.
    expect(page.locator(".snapshot-footer").first).to_be_hidden()
    page.emulate_media(media="print")
    for selector in (".site-header", ".plan-tabs", "[data-testid=print-toolbar]", ".skip-link"):
        assert not _visible(page, selector), f"{selector} is printed"
    expect(page.get_by_test_id("print-header")).to_be_visible()
    footers = page.locator(".snapshot-footer")
    expect(footers.first).to_be_visible()
    expect(footers.first).to_contain_text("Classics Inc. · Version 2 of ")
    breaks = page.eval_on_selector_all(".snapshot-section", "els => els.map(e => getComputedStyle(e).breakBefore)")
    assert breaks and set(breaks) == {"page"}
    save_screenshot(page, "continuity-print-paper.png")
    page.emulate_media(media="screen")

    # The PDF link downloads the plan as a PDF that opens, the German text intact.
    with page.expect_download() as download_info:
        page.get_by_test_id("pdf-link").click()
    download = download_info.value
    assert download.suggested_filename == "continuity-plan-classics-inc-v2.pdf"
    with open(download.path(), "rb") as pdf:
        data = pdf.read()
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    assert "Network services" in text and GERMAN_SYSTEM in text and "Zweite Leitung über Köln" in text

    # The same pages in German.
    User.objects.filter(pk=reader.pk).update(language="de")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name=_german("Continuity plan"), level=1)).to_be_visible()
    expect(page.get_by_role("button", name=_german("Print"), exact=True)).to_be_visible()
    accessible(page, where="Print view (de)")
    page.goto("/plan/versions/1/compare/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_test_id("added")).to_contain_text(GERMAN_SYSTEM)
    accessible(page, where="Compare version 1 with the current plan (de)")
    save_screenshot(page, "continuity-compare.png")
    page.goto("/plan/versions/")
    accessible(page, where="Versions of the plan (de)")
