"""The primary's administrator syncs to the BCP tenant in the browser, with a real Celery worker running the
task: Enable Sync, watch the progress until the first run has succeeded, Sync now, read the counts in History
and on the run, follow a correlation to the BCP side; axe on every page, then the same pages in German."""

import re
import threading
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection
from django.utils import translation
from playwright.sync_api import expect

from bcp_project import health
from bcp_project.celery import app
from sync.models import Correlation, SyncRun
from tests.broker import own_queue
from tests.e2e.conftest import save_screenshot
from tests.factories import PASSWORD
from tests.sync.conftest import BACKUP, configured, mapping  # noqa: F401
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

# A run of this small configuration takes a second or two; the worker and the polling page get room to spare.
RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def sync_queue(tmp_path):
    """`sync.run` goes to a queue of the test's own (tests/broker.py)."""
    with own_queue(tmp_path, f"bcp-e2e-sync-{uuid.uuid4().hex[:12]}") as queue:
        assert health.check_broker() == (True, "ok"), f"no broker at {app.conf.broker_url}"
        yield queue


@pytest.fixture
def runs_done():
    """Counts the `sync.run` tasks the worker has finished. The worker's thread closes its own database
    connection after each: one left open would hold on to the test database when it is flushed or dropped."""
    done = threading.Semaphore(0)
    done.states = []

    def finished(sender=None, state=None, **kwargs):
        connection.close()
        if getattr(sender, "name", "") == "sync.run":
            done.states.append(state)
            done.release()

    task_postrun.connect(finished, weak=False, dispatch_uid="test_sync_e2e.runs_done")
    try:
        yield done
    finally:
        task_postrun.disconnect(dispatch_uid="test_sync_e2e.runs_done")


def _worker(queue):
    """A real worker in this process, on the test's queue: it shares the live server's database."""
    return start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=[queue])


def _progress(page):
    return page.locator("#sync-progress")


def _assert_waiting(page):
    """A run is queued: the progress bar shows, and Sync now is not offered until it has finished."""
    progress = _progress(page)
    expect(progress.get_by_test_id("sync-running")).to_have_text(
        "A sync is waiting to start: it starts as soon as a worker takes it. You can leave this page.")
    expect(progress.get_by_role("progressbar", name="Sync progress")).to_be_visible()
    expect(progress.get_by_text("Sync now is available again when this run has finished.")).to_be_visible()
    expect(page.get_by_role("button", name="Sync now")).to_have_count(0)


def _wait_until_succeeded(page):
    """htmx polls /admin/sync/progress/ every second while the run is active, and stops when it has ended."""
    last_run = _progress(page).get_by_test_id("sync-last-run")
    expect(last_run).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(last_run.locator(".status")).to_have_text("Succeeded")
    expect(_progress(page)).not_to_have_attribute("hx-trigger", re.compile("."))
    expect(_progress(page).get_by_role("progressbar")).to_have_count(0)


def _cells(row):
    return [cell.strip() for cell in row.locator("th, td").all_inner_texts()]


def _german(text):
    with translation.override("de"):
        return translation.gettext(text)


def test_the_administrator_enables_sync_syncs_again_and_reads_history_and_correlations(
        page, sign_in, accessible, configured, mapping, sync_queue, runs_done):  # noqa: F811
    sign_in(page, "alice", PASSWORD)
    page.goto("/admin/")
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Sync Configuration", exact=True).click()
    page.get_by_role("heading", name="Sync Configuration", level=1).wait_for()
    expect(page.get_by_role("heading", name="Sync is off")).to_be_visible()
    expect(page.get_by_text("Classics Inc. BCP")).to_be_visible()
    accessible(page, where="Sync Configuration, sync off")

    # Enable Sync. No worker is running yet, so the first run waits in the queue where the test can see it.
    page.get_by_role("button", name="Enable Sync").click()
    page.get_by_role("status").filter(has_text="Sync is enabled.").wait_for()
    _assert_waiting(page)
    accessible(page, where="Sync Configuration, first run queued")
    first = SyncRun.objects.using(BACKUP).get()
    assert (first.trigger, first.status) == (SyncRun.Trigger.FIRST, SyncRun.Status.QUEUED)

    with _worker(sync_queue):
        _wait_until_succeeded(page)
        assert runs_done.acquire(timeout=30), "the worker did not report the first run as done"
    assert runs_done.states == ["SUCCESS"]
    first.refresh_from_db()
    assert first.status == SyncRun.Status.SUCCEEDED, first.errors
    assert first.totals["created"] > 0 and first.totals["failed"] == 0
    accessible(page, where="Sync Configuration, first run succeeded")

    # Sync now: offered again, and not while its own run waits.
    page.get_by_role("button", name="Sync now").click()
    page.get_by_role("status").filter(has_text="The sync has started.").wait_for()
    _assert_waiting(page)
    with _worker(sync_queue):
        _wait_until_succeeded(page)
        assert runs_done.acquire(timeout=30), "the worker did not report the second run as done"
    assert runs_done.states == ["SUCCESS", "SUCCESS"]
    second = SyncRun.objects.using(BACKUP).exclude(pk=first.pk).get()
    assert (second.trigger, second.status) == (SyncRun.Trigger.MANUAL, SyncRun.Status.SUCCEEDED), second.errors
    expect(page.get_by_role("button", name="Sync now")).to_be_visible()
    accessible(page, where="Sync Configuration, second run succeeded")
    save_screenshot(page, "sync-configuration.png")

    # History: newest first; the second run found everything already there.
    page.get_by_role("navigation", name="Sync sections").get_by_role("link", name="History").click()
    page.get_by_role("heading", name="History", level=2).wait_for()
    table = page.get_by_role("table", name="Sync runs, newest first")
    header = _cells(table.locator("thead tr"))
    assert header == ["Started", "Ended", "Trigger", "Status", "Created", "Updated", "Deleted",
                      "Unchanged", "Failed"]
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    newest, oldest = (dict(zip(header, _cells(rows.nth(i)), strict=True)) for i in (0, 1))
    assert newest["Trigger"] == "Sync now (Alice Admin)" and newest["Status"] == "Succeeded"
    assert (newest["Created"], newest["Updated"], newest["Deleted"], newest["Failed"]) == ("0", "0", "0", "0")
    # Nothing changed since the first run, so the change log named no record to compare.
    assert newest["Unchanged"] == "0"
    assert oldest["Trigger"] == "First sync (Alice Admin)" and oldest["Status"] == "Succeeded"
    assert int(oldest["Created"]) == first.totals["created"] and oldest["Failed"] == "0"
    accessible(page, where="Sync History")
    save_screenshot(page, "sync-history.png")

    # The run: its counts per type.
    rows.nth(0).get_by_role("link").click()
    page.get_by_role("heading", name=re.compile(r"^Sync run of .* UTC$"), level=1).wait_for()
    expect(page.get_by_test_id("run-status")).to_have_text("Succeeded")
    counts = page.get_by_role("table", name="Records per type")
    expect(page.get_by_test_id("run-changes-only")).to_contain_text("compared only the records changed since")
    by_type = {row.get_attribute("data-type"): _cells(row) for row in counts.locator("tbody tr").all()}
    assert all(cells[1:] == ["0", "0", "0", "0", "0"] for cells in by_type.values()), by_type
    accessible(page, where="Sync run")

    # Correlation lookup: the tag on the primary, then its copy on the BCP tenant, under another ID. The run's
    # page has no section tabs, only breadcrumbs back to History.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="History").click()
    page.get_by_role("navigation", name="Sync sections").get_by_role("link", name="Correlation lookup").click()
    page.get_by_role("heading", name="Correlation lookup", level=2).wait_for()
    accessible(page, where="Correlation lookup")
    page.get_by_label("Type").select_option(label="Tags")
    page.get_by_label("Look up on").select_option(label="Primary tenant")
    page.get_by_label("Name or username contains").fill("VIP")
    page.get_by_role("button", name="Look up").click()
    pairs = page.get_by_test_id("correlations").locator("tbody tr")
    expect(pairs).to_have_count(1)
    primary_name, primary_id, bcp_name, bcp_id, _written = _cells(pairs.first)
    assert primary_name == bcp_name == "VIP"  # each region numbers its own records: the ids may or may not differ
    link = Correlation.objects.get(mapping=mapping, entity_type="tag")
    assert (int(primary_id), int(bcp_id)) == (link.source_id, link.target_id)
    accessible(page, where="Correlation lookup, primary side")

    pairs.first.get_by_role("link", name="VIP").nth(1).click()
    expect(page.get_by_label("Look up on")).to_have_value("bcp")
    expect(pairs).to_have_count(1)
    assert _cells(pairs.first)[:4] == ["VIP", primary_id, "VIP", bcp_id]
    accessible(page, where="Correlation lookup, BCP side")

    # In German, from My Profile: the same pages, as accessible.
    page.goto("/profile/")
    page.get_by_role("combobox", name="Language").select_option("de")
    page.get_by_role("button", name="Save language").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    for url, where, headings in (
            ("/admin/sync/", "Sync Configuration (de)", [("Sync Configuration", 1), ("Sync status", 2)]),
            ("/admin/sync/history/", "Sync History (de)", [("Sync Configuration", 1), ("History", 2)])):
        page.goto(url)
        for heading, level in headings:
            german = _german(heading)
            # The German catalogue is being completed; assert a heading once it is translated.
            if german != heading:
                expect(page.get_by_role("heading", name=german, level=level, exact=True)).to_be_visible()
        accessible(page, where=where)
