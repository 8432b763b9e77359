"""A deadline kept on our side for every round trip to a region's PostgreSQL (docs/architecture.md, "When a region
does not answer").

Three ways a region's database can be gone, and what ends the wait for each:

- stopped: the connection is refused at once; a host that does not answer at all is bounded by libpq's
  `connect_timeout` (REGION_CONNECT_TIMEOUT), which psycopg applies to the whole connection start-up, so a hung
  server that accepts the TCP connection but never answers the start-up packet is bounded too;
- a network partition: packets are dropped; keepalives and `tcp_user_timeout` (settings) end a connection that no
  longer carries anything;
- a hung server (its processes stopped, its kernel still acknowledging): the connection looks alive and nothing
  on it ever times out. Only a deadline of our own ends that wait, and this module keeps it.

Every network wait psycopg 3 makes on an established connection (a query, a fetch from a server-side cursor, a
commit or rollback, the health check Django runs before a request's first query, COPY) goes through
`Connection.wait()`, which takes a timeout. Region connections are made of `DeadlineConnection`, whose `wait()`
passes the current deadline down: the blocked call itself gives up when it expires, in its own thread, with no
watchdog thread and no socket of another thread broken from outside. The connection's state is then unknown (a
query may be half sent), so it is closed on the spot; Django discards it (bcp_project.regions.backends).

The deadline is REGION_QUERY_DEADLINE for every round trip; work that needs longer (the sync's bulk copy) raises it
for a block with `longer_deadline(seconds)`. It applies to region databases only: the control plane is deployed to
outlive any one region.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import psycopg
from django.conf import settings
from psycopg import errors as pg_errors

# psycopg's own timeout error (a subclass of OperationalError); the name is private, the behaviour documented on
# Connection.wait(). Pinned with psycopg in pyproject.toml and proved by tests/platform/test_region_failfast.py.
_WaitTimeout = pg_errors._WaitTimeout

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("bcp_region_deadline", default=None)


class DeadlineExceeded(psycopg.OperationalError):
    """A region's database did not answer within the deadline; the connection has been closed."""


def current_deadline() -> float:
    """Seconds a single round trip to a region may take in this context."""
    seconds = _deadline.get()
    return float(settings.REGION_QUERY_DEADLINE) if seconds is None else seconds


@contextlib.contextmanager
def within(seconds: float) -> Iterator[float]:
    """Inside the block, a round trip to a region may take exactly `seconds`: the probe's short bound."""
    token = _deadline.set(float(seconds))
    try:
        yield float(seconds)
    finally:
        _deadline.reset(token)


@contextlib.contextmanager
def longer_deadline(seconds: float) -> Iterator[float]:
    """Inside the block, a round trip to a region may take up to `seconds` (never less than the deadline already
    in force): for long work such as the sync's bulk copy, not for pages."""
    seconds = max(float(seconds), current_deadline())
    token = _deadline.set(seconds)
    try:
        yield seconds
    finally:
        _deadline.reset(token)


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every network wait ends at the deadline."""

    def wait(self, gen, interval=0.1, timeout=None):
        limit = current_deadline()
        if timeout is not None and timeout <= limit:
            return super().wait(gen, interval, timeout)  # the caller's own, shorter timeout (notifies)
        try:
            return super().wait(gen, interval, limit)
        except _WaitTimeout as exc:
            # A query may be half sent or half answered: nothing more can be said on this connection.
            self.pgconn.finish()
            raise DeadlineExceeded(f"the server did not answer within {limit:g} s") from exc


class _DeadlinePsycopg:
    """psycopg as Django's PostgreSQL backend sees it (`DatabaseWrapper.Database`), except that connect() makes a
    DeadlineConnection. Everything else (the exception classes Django maps, adapters, versions) is psycopg's."""

    connect = DeadlineConnection.connect

    def __getattr__(self, name):
        return getattr(psycopg, name)


Database = _DeadlinePsycopg()
