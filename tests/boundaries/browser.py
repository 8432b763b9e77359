"""What a browser does with our pages, for the boundary test: read a page's forms (the values it would submit
untouched) and its links, and walk every page reachable from a few starting points."""

import time
import traceback
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django import forms as django_forms
from django.db import transaction
from django.urls import Resolver404, resolve


@dataclass
class HtmlForm:
    action: str
    method: str
    values: list[tuple[str, str]] = field(default_factory=list)  # what an untouched submit sends, in order
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    names: set[str] = field(default_factory=set)  # every named control, sent untouched or not
    hidden: set[str] = field(default_factory=set)  # the controls a person does not see (tokens, ids)


class _Parser(HTMLParser):
    """Forms with the values an untouched submit sends, and every link a person (or htmx) can follow."""

    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base, self.forms, self.links = base, [], []
        self._form: HtmlForm | None = None
        self._select: tuple | None = None  # name, selected values, all values, multiple
        self._option: str | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        for attr in ("href", "hx-get"):
            if tag in ("a", "button", "div", "form", "tr", "span", "section", "input", "select") and a.get(attr):
                self.links.append(urljoin(self.base, a[attr]))
        if tag == "form":
            self._form = HtmlForm(action=urljoin(self.base, a.get("action") or self.base),
                                  method=(a.get("method") or "get").lower())
            self.forms.append(self._form)
        if self._form is None or "disabled" in a:
            return
        name = a.get("name")
        if name and tag in ("input", "select", "textarea", "button"):
            self._form.names.add(name)
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "hidden":
                self._form.hidden.add(name)
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.values.append((name, a.get("value", "on")))
            elif kind == "submit":
                self._form.buttons.append((name, a.get("value", "")))
            elif kind not in ("file", "image", "reset", "button"):
                self._form.values.append((name, a.get("value", "")))
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            self._form.buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, [], [], "multiple" in a)
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            if self._option is not None:
                self._select[2].append(self._option)
                if "selected" in a:
                    self._select[1].append(self._option)
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, chosen, options, multiple = self._select
            for value in chosen or ([] if multiple or not options else options[:1]):
                self._form.values.append((name, value))
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._textarea[1])
            self._form.values.append((self._textarea[0], text[1:] if text.startswith("\n") else text))
            self._textarea = None


def parse(response, url: str) -> _Parser:
    parser = _Parser(url)
    if response.get("Content-Type", "").startswith("text/html"):
        parser.feed(response.content.decode())
    return parser


def page_forms(response) -> list[django_forms.BaseForm]:
    """The Django forms a page was rendered with (formsets' forms included), from the template context."""
    found, seen = [], set()

    def add(value):
        if isinstance(value, django_forms.BaseForm) and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
            rows = getattr(value, "rows", None)
            if isinstance(rows, django_forms.BaseFormSet):
                add(rows)
        elif isinstance(value, django_forms.BaseFormSet) and id(value) not in seen:
            seen.add(id(value))
            for form in value.forms:
                add(form)
            add(value.management_form)

    for context in response.context or []:
        for layer in (context.dicts if hasattr(context, "dicts") else [context]):
            if isinstance(layer, dict):
                for value in layer.values():
                    add(value)
    return found


class Failures(list):
    """Each request that answered 500 (or raised): where, what was sent, and the end of the traceback."""

    def record(self, where: str, url: str, sent, error: BaseException | None = None, status: int | None = None):
        tail = "".join(traceback.format_exception(error)[-3:]) if error else f"status {status}"
        self.append(f"{where}: {url} {str(sent)[:300]!r}\n    {tail.strip()}")


def request(client, method: str, url: str, failures: Failures, where: str, data=None, **extra):
    """One request that never takes the test's transaction down with it; None when it failed (recorded)."""
    try:
        with transaction.atomic():
            response = getattr(client, method)(url, data=data, **extra) if data is not None else \
                getattr(client, method)(url, **extra)
    except Exception as error:  # noqa: BLE001 (any exception is the 500 a person would get)
        failures.record(where, url, data, error)
        return None
    outage = "status/outage.html" in [t.name for t in response.templates]
    if response.status_code >= 500 and not (response.status_code == 503 and outage):  # an outage's page is 503
        failures.record(where, url, data, status=response.status_code)
        return None
    return response


TIMINGS: dict[str, float] = {}  # seconds spent rendering each view, over the whole run

# Links a crawl must not follow: they end the session or act, whatever their method.
SKIP_VIEWS = {"accounts:logout", "accounts:login", "support:end", "healthz"}


# Views that show one old version of the plan: each submission makes a version, and the newest ones (listed
# first) hold what the batch saved. A PDF of a plan with every boundary value takes seconds.
PER_VIEW = {"continuity:version_pdf": 1, "continuity:version_print": 2, "continuity:version": 3,
            "continuity:compare": 3}


def crawl(client, starts: list[str], failures: Failures, where: str, *, per_view: int = 10) -> dict[str, int]:
    """Every page reachable by link from `starts`; at most `per_view` URLs of one view (PER_VIEW says less for
    some). Returns url -> status."""
    seen: dict[str, int] = {}
    per_name: dict[str, int] = {}
    queue = list(starts)
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver") or url in seen or parts.path.startswith("/static/"):
            continue
        try:
            name = resolve(parts.path).view_name
        except Resolver404:
            continue
        if name in SKIP_VIEWS or per_name.get(name, 0) >= PER_VIEW.get(name, per_view):
            continue
        per_name[name] = per_name.get(name, 0) + 1
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        started = time.monotonic()
        response = request(client, "get", local, failures, where)
        TIMINGS[name] = TIMINGS.get(name, 0.0) + time.monotonic() - started
        seen[url] = response.status_code if response is not None else 500
        if response is None or response.status_code != 200:
            continue
        queue.extend(link.split("#")[0] for link in parse(response, "http://testserver" + local).links)
    return seen
