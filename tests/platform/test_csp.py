"""The Content-Security-Policy: on a page of every app, in report-only mode when the operator asks, and
templates and scripts that need nothing the policy refuses."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from accounts.roles import ADMINISTRATOR, CHANGE_BCP_CONFIGURATIONS, VIEW_BCP_CONFIGURATIONS
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.models import Heartbeat
from tests.factories import role_of

ROOT = Path(__file__).resolve().parents[2]
ENFORCED, REPORT_ONLY = "Content-Security-Policy", "Content-Security-Policy-Report-Only"
EXPECTED = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} appears twice in {header!r}"
        parsed[name] = sources
    return parsed


def assert_strict(header: str):
    assert directives(header) == EXPECTED, header
    for loophole in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "data:", "*"):
        assert loophole not in header.split(), header


@pytest.fixture
def signed_in(client, rep, tenant_admin, agent, tenant):
    role_set_permissions(role=role_of(tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_CONFIGURATIONS],
                         scope=[VIEW_BCP_CONFIGURATIONS, CHANGE_BCP_CONFIGURATIONS], actor=Actor.system())
    Heartbeat.objects.update_or_create(name="celery", defaults={"beat_at": timezone.now()})
    people = {"rep": rep, "tenant_admin": tenant_admin, "agent": agent}

    def as_(name):
        client.logout()
        if name != "anonymous":
            client.force_login(people[name])
        return client

    return as_


# (app, who, url, expected status): a page of each app, a partial, JSON, and our error pages.
PAGES = [
    ("accounts", "anonymous", "/sign-in/", 200),
    ("accounts", "agent", "/profile/", 200),
    ("accounts", "tenant_admin", "/admin/roles/", 200),
    ("tenants", "rep", "/tm/tenants/", 200),
    ("tenants", "rep", "/tm/tenants/{tenant}/applications/", 200),
    ("audit", "rep", "/tm/audit/", 200),
    ("contactcenter", "tenant_admin", "/admin/teams/", 200),
    ("contactcenter", "tenant_admin", "/admin/users/", 200),
    ("sync", "tenant_admin", "/admin/sync/", 200),
    ("enablement", "rep", "/tm/status/", 200),
    ("enablement", "agent", "/profile/status-alerts/", 200),
    ("bcp_project", "anonymous", "/healthz", 200),
    ("bcp_project", "rep", "/no-such-page/", 404),
]


@pytest.mark.parametrize(("app", "who", "url", "status"), PAGES, ids=[f"{p[0]}-{p[2]}" for p in PAGES])
def test_it_sends_the_strict_policy_on_every_app(signed_in, tenant, app, who, url, status):
    response = signed_in(who).get(url.format(tenant=tenant.pk))
    assert response.status_code == status
    assert_strict(response.headers[ENFORCED])
    assert REPORT_ONLY not in response.headers


def test_it_sends_the_policy_on_an_htmx_partial(signed_in):
    response = signed_in("rep").get("/tm/tenants/?q=Classics", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert_strict(response.headers[ENFORCED])


def test_a_refused_form_gets_our_page_under_the_policy(db, agent):
    """Django's own CSRF page has an inline style the policy would block; ours has none."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post("/profile/", {"language": "de"})
    assert response.status_code == 403
    assert b"Form expired" in response.content
    assert b"<style" not in response.content
    assert_strict(response.headers[ENFORCED])


def _sign_in_headers(tmp_path, **env) -> dict[str, str]:
    """The sign-in page's headers in a fresh process whose environment holds `env`: the settings read it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CSP_")}
    full_env.update(DJANGO_SETTINGS_MODULE="bcp_project.settings_test",
                    DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **env)
    script = ("import json; from django.test import Client; "
              "r = Client(HTTP_HOST='localhost').get('/sign-in/'); "
              "print(json.dumps({'status': r.status_code, 'headers': dict(r.headers)}))")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=full_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    return answer["headers"]


def test_report_only_mode_reports_the_same_policy_without_enforcing_it(tmp_path):
    headers = _sign_in_headers(tmp_path, CSP_REPORT_ONLY="true", CSP_REPORT_URI="/csp-reports/")
    assert ENFORCED not in headers
    policy = directives(headers[REPORT_ONLY])
    assert policy.pop("report-uri") == ["/csp-reports/"]
    assert policy == EXPECTED


def test_the_policy_is_enforced_when_report_only_is_false(tmp_path):
    headers = _sign_in_headers(tmp_path, CSP_REPORT_ONLY="false")
    assert_strict(headers[ENFORCED])
    assert REPORT_ONLY not in headers


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CSP_REPORT_ONLY", "perhaps", "CSP_REPORT_ONLY must be true or false"),
    ("CSP_REPORT_URI", "http://reports.example.com/csp", "CSP_REPORT_URI must be a path on this site"),
])
def test_a_csp_setting_it_cannot_understand_stops_the_program(name, value, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSP_")}
    env.update(DJANGO_SETTINGS_MODULE="bcp_project.settings_test", **{name: value})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert message in result.stderr


# What the policy refuses, as it would be written in a template: an inline script (a <script> without src),
# a style element or attribute, an on...= handler, a javascript: URL, htmx's hx-on (which needs eval).
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    "script body": re.compile(r"<script[^>]*\ssrc=[^>]*>\s*[^<\s]", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "hx-on": re.compile(r"\s(hx|data-hx)-on", re.IGNORECASE),
    "js: in hx-vals": re.compile(r"hx-(vals|vars)\s*=\s*['\"]\s*js:", re.IGNORECASE),
}
TEMPLATES = sorted(p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts)


def test_the_templates_are_found():
    assert len(TEMPLATES) > 40
    assert ROOT / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(ROOT)) for p in TEMPLATES])
def test_no_template_has_inline_script_style_or_handlers(path):
    text = path.read_text()
    found = [f"{what}: {m.group(0)!r}" for what, pattern in INLINE.items() for m in pattern.finditer(text)]
    assert not found, f"{path.relative_to(ROOT)} has what the Content-Security-Policy refuses: {found}"


def test_base_tells_htmx_to_add_no_style_and_never_eval():
    text = (ROOT / "templates" / "base.html").read_text()
    match = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", text)
    assert match, "base.html has no htmx-config meta element"
    config = json.loads(match.group(1))
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False


# Our scripts: nothing that evaluates a string, and no style attribute written into the page (changing
# element.style from a script file is allowed by the policy, but we keep the looks in the stylesheets).
SCRIPT_RISKS = re.compile(
    r"\beval\s*\(|new\s+Function\s*\(|set(Timeout|Interval)\s*\(\s*['\"]|setAttribute\s*\(\s*['\"](style|on[a-z]+)"
    r"|\sstyle\s*=|\.cssText\b"
)


@pytest.mark.parametrize("path", sorted((ROOT / "static" / "js").glob("*.js")), ids=lambda p: p.name)
def test_our_scripts_evaluate_no_strings_and_write_no_style_attributes(path):
    found = [m.group(0) for m in SCRIPT_RISKS.finditer(path.read_text())]
    assert not found, f"{path.name}: {found}"
