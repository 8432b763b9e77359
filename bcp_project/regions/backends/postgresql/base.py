"""PostgreSQL for a region: Django's backend, its connections made with a deadline on every round trip
(bcp_project.regions.deadline), guarded as bcp_project.regions.backends says."""

import psycopg
from django.db.backends.postgresql import base

from ... import deadline, health
from .. import RegionGuard

# Connection-level SQLSTATEs: class 08 (connection exception), and the server shutting down or starting up.
_CONNECTION_STATES = ("57P01", "57P02", "57P03")


class DatabaseWrapper(RegionGuard, base.DatabaseWrapper):
    Database = deadline.Database

    def is_connection_failure(self, exc) -> bool:
        if not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return False
        sqlstate = getattr(exc, "sqlstate", None)
        return sqlstate is None or sqlstate.startswith("08") or sqlstate in _CONNECTION_STATES

    def is_deadline(self, exc) -> bool:
        return isinstance(exc, deadline.DeadlineExceeded)

    def is_usable(self):
        # Django's health check before a request's first query, and at its end after an error: on a hung server it
        # ends at the deadline, and then the region is down for everyone, not only for this connection.
        if self.connection is None:
            return False
        if not self.probing and health.is_down(self.alias):
            return False  # not touched: Django closes it (at the end of a request, or before the next query)
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except deadline.DeadlineExceeded as exc:
            if not self.probing:
                health.mark_down(self.alias, health.describe(exc))
            return False
        except psycopg.Error:
            return False
        return True
