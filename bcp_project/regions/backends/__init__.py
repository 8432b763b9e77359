"""Database backends for the region aliases (settings.DATABASES sets their ENGINE): Django's own, plus the guard
that keeps a request from waiting on a region that does not answer (docs/architecture.md, "When a region does not
answer"). Explicit `using(alias)`, `connections[alias]` and raw cursors all come through here, which the router
alone would not see.

- A region marked down (bcp_project.regions.health) is refused before any query, with RegionNotAnswering.
- Connecting fails (refused, timed out), or a round trip runs past the deadline (bcp_project.regions.deadline):
  the region is marked down for every process, and the caller gets RegionNotAnswering.
- The connection breaks in another way (the server restarted, the session was ended): the caller gets
  RegionNotAnswering too, and the connection is dropped, but the region is not marked down: connecting again
  says whether it is.
Errors the server answers with (a constraint, a lock timeout, a serialization failure) are not the region's
failure and stay what they are.
"""

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.utils import DatabaseErrorWrapper
from django.utils.functional import cached_property

from .. import health


class _RegionErrorWrapper(DatabaseErrorWrapper):
    def __exit__(self, exc_type, exc_value, traceback):
        wrapper = self.wrapper
        if exc_value is not None and not wrapper.probing and wrapper.alias != NO_DB_ALIAS \
                and wrapper.is_connection_failure(exc_value):
            wrapper.errors_occurred = True
            if wrapper.connecting or wrapper.is_deadline(exc_value):
                health.mark_down(wrapper.alias, health.describe(exc_value))
            if not wrapper.connecting:
                wrapper.close()
            raise health.RegionNotAnswering(wrapper.alias) from exc_value
        return super().__exit__(exc_type, exc_value, traceback)


class RegionGuard:
    """Mixed into a backend's DatabaseWrapper."""

    # The probe sets it on a connection of its own: it must touch a region that is marked down, and it decides.
    probing = False
    connecting = False

    @cached_property
    def wrap_database_errors(self):
        return _RegionErrorWrapper(self)

    def is_connection_failure(self, exc) -> bool:
        return False

    def is_deadline(self, exc) -> bool:
        return False

    def _refuse_if_down(self) -> None:
        if not self.probing and self.alias != NO_DB_ALIAS:
            health.ensure_answering(self.alias)

    def _cursor(self, name=None):
        # Before Django's health check, which would itself wait on a region that does not answer.
        self._refuse_if_down()
        return super()._cursor(name)

    def ensure_connection(self):
        if self.connection is not None:
            return super().ensure_connection()
        self._refuse_if_down()
        self.connecting = True
        try:
            return super().ensure_connection()
        finally:
            self.connecting = False
