"""What one run knows and reports while it goes: the pair of tenants, the id maps, the primary's names of the
records it read (for messages), the counts per type and the errors, saved on the run as its progress."""

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.utils import load_backend
from django.utils import timezone

from bcp_project.regions import alias_for_mapping, alias_for_tenant

from ..models import SyncRun
from . import capture, sql
from .ids import IdMaps
from .registry import BY_KEY
from .types import Entity


@dataclass
class TypeCounts:
    total: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


logger = logging.getLogger(__name__)

PROGRESS_EVERY = 1.0  # seconds (settings.SYNC_PROGRESS_EVERY)


def _second_connection(alias: str):
    """A new connection to the database of `alias`, outside django.db.connections: its own session (and
    transaction), opened and closed by whoever asked for it."""
    settings_dict = copy.deepcopy(connections[alias].settings_dict)
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias=f"{alias}~second")


class ProgressChannel:
    """A running run's progress and heartbeat, written on a connection of its own to the backup's region: the
    run's own transaction there commits only at its end, so what it writes is seen by no one until then.

    PostgreSQL: a second connection to the backup's database (same server and options), in autocommit; each
    write is one short UPDATE of the run's row, which the run's transaction never touches. SQLite: nothing is
    written mid-run. The run's transaction holds the file's only write lock (IMMEDIATE) from its start, so a
    second writer would wait for the whole run; the run's row is written when it ends, and while it runs the same
    lock is what keeps a second worker from taking it over (its claim waits for the lock)."""

    def __init__(self, alias: str):
        self.connection = _second_connection(alias) if connections[alias].vendor == "postgresql" else None

    def write(self, run_id: int, *, counts: dict, current_type: str, heartbeat_at) -> None:
        if self.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                sql.progress_write(cursor, run_id=run_id, counts=json.dumps(counts), current_type=current_type,
                                   heartbeat_at=heartbeat_at)
        except DatabaseError as exc:  # progress is for people: a lost write costs a stale bar, not the run
            logger.warning("sync run %s: progress not written (%s)", run_id, exc)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def region_answers(alias: str) -> bool:
    """Whether a database answers a fresh connection (a second one, so that the run's own connection, perhaps
    broken mid-transaction, is left alone)."""
    probe = _second_connection(alias)
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False
    finally:
        try:
            probe.close()
        except DatabaseError:
            pass


class RunState:
    def __init__(self, run: SyncRun, *, keys: list[str], full: bool = False,
                 on_progress: Callable[[SyncRun], None] | None = None, progress: ProgressChannel | None = None):
        self.run = run
        self.mapping = run.mapping
        self.source_tenant = self.mapping.primary_id
        self.target_tenant = self.mapping.secondary_id
        # The primary's region (read in one snapshot) and the backup's (written in one transaction).
        self.source_alias = alias_for_tenant(self.source_tenant)
        self.target_alias = alias_for_mapping(self.mapping)
        self.progress = progress
        self.full = full
        self.ids = IdMaps(self.mapping)
        self.names: dict[str, dict[int, str]] = {}
        self.sources: dict[str, dict[int, tuple]] = {}  # per type, the primary's rows this run read (for names)
        self.counts = {key: TypeCounts() for key in keys}
        self.errors: list[dict] = []
        self.on_progress = on_progress
        # When progress was last written: the claim wrote the run's heartbeat a moment ago. A run shorter than
        # PROGRESS_EVERY writes none (its end writes the run's row), and opens no second connection.
        self._written = timezone.now()
        self._wrote = False
        # The change log: the rows this run read (deleted once the backup committed), and per type the primary ids
        # to compare (a type missing here is compared in full: a first sync, --full, no correlation yet).
        self.found = capture.Read()
        self.changes: dict[str, set[int]] = {}
        # Primary ids whose work this run could not finish (a failure, a protected delete, a reconciliation
        # error): logged again after the commit, so the next change-driven run takes them up again.
        self.retry: dict[str, set[int]] = {key: set() for key in keys}
        # Whether this run deleted copies (reconcile.py then reads back every child row of the records it wrote).
        self.deleted = False
        # The digests checked this run: per type, the primary's digests of the records whose stored digest differed.
        self.digests: dict[str, dict[int, int]] = {}

    def error(self, code: str, entity: Entity, **params) -> None:
        self.errors.append({"code": code, "type": entity.key, **params})

    def name(self, key: str, pk: int) -> str:
        """A primary record's name for a message: from this run's reads, or read now."""
        known = self.names.setdefault(key, {})
        if pk not in known:
            values = self.sources.get(key, {}).get(pk)
            if values is None and key in BY_KEY:
                values = BY_KEY[key].read(self.source_tenant, [pk]).get(pk)
            known[pk] = BY_KEY[key].describe(values) if values else str(pk)
        return known[pk]

    def save_progress(self, current: str = "") -> None:
        """The counts so far, on the run: written for people to see every PROGRESS_EVERY seconds (and at the end
        when anything was), so that a run with little to do does not spend its time telling so."""
        run = self.run
        run.counts = {key: counts.as_dict() for key, counts in self.counts.items()}
        run.current_type = current
        run.heartbeat_at = timezone.now()
        every = getattr(settings, "SYNC_PROGRESS_EVERY", PROGRESS_EVERY)
        due = (run.heartbeat_at - self._written).total_seconds() >= every
        if self.progress is not None and (due or (not current and self._wrote)):
            self._written, self._wrote = run.heartbeat_at, True
            self.progress.write(run.pk, counts=run.counts, current_type=current, heartbeat_at=run.heartbeat_at)
        if self.on_progress is not None:
            self.on_progress(run)
