"""The plan, its versions and its drills write a time one way, with its zone, and say its age where it matters."""

import re

from django.urls import reverse

from bcp_project.templatetags.times import when_text
from continuity.models import PlanVersion

WHEN = r'<time datetime="[^"]+">\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC</time>'


def test_the_plan_says_how_long_ago_it_changed_with_the_zone(plan_admin, tenant):
    page = plan_admin.get(reverse("continuity:plan")).text
    hint = page.split('data-testid="plan-version">')[1].split("</p>")[0]
    assert re.search(r"last changed <time [^>]+>just now, \d{2}:\d{2} UTC</time>", hint), hint


def test_the_versions_list_and_a_version_give_the_time_with_its_zone(plan_admin, tenant):
    version = PlanVersion.objects.filter(tenant=tenant).latest("number")
    listing = plan_admin.get(reverse("continuity:versions")).text
    row = listing.split('data-testid="version-row">')[1].split("</tr>")[0]
    assert re.search(WHEN, row) and when_text(version.created_at) in row
    detail = plan_admin.get(reverse("continuity:version", args=[version.number])).text
    assert when_text(version.created_at) in detail.split('data-testid="version-notice"')[1].split("</p>")[0]
    assert "a.m." not in detail and "p.m." not in detail


def test_in_german_the_time_is_written_the_same_way(plan_admin, tenant, tenant_admin):
    tenant_admin.language = "de"
    tenant_admin.save(update_fields=["language"])
    page = plan_admin.get(reverse("continuity:plan")).text
    hint = page.split('data-testid="plan-version">')[1].split("</p>")[0]
    assert re.search(r"<time [^>]+>gerade eben, \d{2}:\d{2} UTC</time>", hint), hint
