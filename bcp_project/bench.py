"""`make bench`: response times of the pages that must stay fast with a lot of data.

A section is a function `run(out)` named in `bcp_project.management.commands.bench.BENCH_SECTIONS`, kept in
the app whose pages it measures (`tenants/bench.py`, `contactcenter/bench.py`, ...). It creates its data in
the throw-away database the command set up, then measures requests with `out.measure(...)`; the command
prints one table per section. `out.options` has the command's sizes.
"""

import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .permissions import APP_LABEL, TM_ADMIN

WARM_UP = 3


@dataclass
class Measurement:
    label: str
    url: str
    timings_ms: list[float]
    queries: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95_ms(self) -> float:
        if len(self.timings_ms) < 2:
            return self.timings_ms[0]
        return statistics.quantiles(self.timings_ms, n=20, method="inclusive")[18]


@dataclass
class BenchOutput:
    """What a section gets: the sizes asked for, somewhere to write, and a way to time requests."""

    write: Callable[[str], None]
    options: dict
    title: str = ""
    rows: list[Measurement] = field(default_factory=list)

    @property
    def repeat(self) -> int:
        return self.options["repeat"]

    def measure(self, client: Client, label: str, url: str, *, htmx: bool = False) -> Measurement:
        """Request `url` a few times to warm up, then `repeat` times, each timed on its own. The query
        count is that of one request; a page whose count changes between requests is a bug we want to see.
        `htmx=True` asks for the partial, as the page's own filters and paginator do."""
        headers = {"HX-Request": "true"} if htmx else {}
        for _ in range(WARM_UP):
            _get_ok(client, url, headers)
        timings, counts = [], set()
        for _ in range(self.repeat):
            # The queries of every database: the control plane's and the regions'.
            with ExitStack() as stack:
                captured = [stack.enter_context(CaptureQueriesContext(each)) for each in connections.all()]
                started = time.perf_counter()
                _get_ok(client, url, headers)
                timings.append((time.perf_counter() - started) * 1000)
            counts.add(sum(len(queries) for queries in captured))
        row = Measurement(label, url, timings, max(counts))
        if len(counts) > 1:
            row.label += f" (queries varied: {sorted(counts)})"
        self.rows.append(row)
        return row

    def table(self) -> list[str]:
        width = max([len(r.label) for r in self.rows] + [len("request")])
        lines = [
            f"{'request':<{width}}  {'median ms':>9}  {'p95 ms':>9}  {'queries':>7}  url",
            f"{'-' * width}  {'-' * 9}  {'-' * 9}  {'-' * 7}  {'-' * 3}",
        ]
        for row in self.rows:
            numbers = f"{row.median_ms:>9.1f}  {row.p95_ms:>9.1f}  {row.queries:>7}"
            lines.append(f"{row.label:<{width}}  {numbers}  {row.url}")
        return lines


def _get_ok(client: Client, url: str, headers: dict) -> None:
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}, not 200")


def account_representative(username: str = "bench.rep"):
    """A representative for a section's client. The user model through Django: bcp_project imports no app."""
    user = get_user_model().objects.create(username=username, tenant=None)
    user.user_permissions.add(Permission.objects.get(codename=TM_ADMIN, content_type__app_label=APP_LABEL))
    return user
