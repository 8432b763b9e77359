"""A run's transactions: the primary read in one snapshot, the backup written in one transaction, committed only
if the fence has not moved.

Three databases take part. The primary's region is read in one snapshot (PostgreSQL: REPEATABLE READ, READ ONLY;
SQLite: a read transaction, whose WAL snapshot starts at its first read); the instant of that snapshot is the
run's `source_as_of`. The backup's region is written in one transaction (the copies of the contact-center
configuration and the plan, the correlations). The control plane is read and written in one transaction too
(REPEATABLE READ on PostgreSQL): the primary's roles and users, and their copies. When the primary and the backup
share a region, one transaction on that database does both.

Commit, in this order: the control plane's barrier (an advisory lock per pair that a switch takes before it flips
the pair), the fence (its row locked in the backup's region, its generation compared with the one the run read at
its start), the backup's region, the control plane. A switch moves the fence, then flips the pair: so either the
fence moved before the run looked (the run rolls back and the backup is exactly as the last complete run left
it), or the switch waits for this commit, a few milliseconds, never for the run. A run that dies before its
commit leaves nothing; one that dies between the two commits leaves correlations whose copies of roles or users
are missing, which the next run sees as copies deleted on the BCP tenant and makes again.

Deadlines: on PostgreSQL every statement of the run ends after SYNC_STATEMENT_TIMEOUT, and a transaction left
idle (its worker stuck on a dead source, or gone) is ended by the server after SYNC_IDLE_TIMEOUT, with its locks.
"""

from contextlib import ExitStack, contextmanager

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.utils import timezone

from bcp_project.regions import CONTROL, RegionUnavailable
from tenants.models import BcpMapping

from ..models import Fence
from . import capture, failpoints, sql
from .state import RunState, region_answers
from .writer import SyncInterrupted


class AnotherRunWriting(Exception):
    """A second run of the same pair found the first one still writing (PostgreSQL's advisory lock)."""


def statement_timeout_ms() -> int:
    return int(getattr(settings, "SYNC_STATEMENT_TIMEOUT", 300) * 1000)


def idle_timeout_ms() -> int:
    return int(getattr(settings, "SYNC_IDLE_TIMEOUT", 60) * 1000)


def pair_barrier(cursor, mapping_id: int) -> None:
    """PostgreSQL, control plane: the lock a run's commit and a switch's flip both take, so that a switch that
    moved the fence after the run checked it flips the pair only once the run's writes have all committed."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x5EC, mapping_id])


def _blame(alias: str):
    """An execute wrapper for the run's connection to `alias`: a database error there, when a fresh connection
    to the same database fails too, is that region not answering (RegionUnavailable names it); otherwise (a
    timeout, a conflict) the error is passed on as it is."""

    def wrapper(execute, sql_text, params, many, context):
        try:
            return execute(sql_text, params, many, context)
        except (OperationalError, InterfaceError, DatabaseError) as exc:
            if not isinstance(exc, OperationalError | InterfaceError) and "closed" not in str(exc):
                raise
            if region_answers(alias):
                raise
            raise RegionUnavailable(alias) from exc

    return wrapper


@contextmanager
def _wrapped(alias: str):
    """_blame on the alias's connection while the run lasts; removed by identity, not as the last one added."""
    wrapper = _blame(alias)
    wrappers = connections[alias].execute_wrappers
    wrappers.append(wrapper)
    try:
        yield
    finally:
        wrappers.remove(wrapper)


@contextmanager
def _deferred(alias: str):
    """SQLite: a transaction that only reads starts as a plain BEGIN (DEFERRED), not the IMMEDIATE that this
    project's writers use, so that reading the primary's file takes no write lock from the people using it."""
    connection = connections[alias]
    connection.ensure_connection()  # connecting sets transaction_mode from the settings
    mode = getattr(connection, "transaction_mode", None)
    connection.transaction_mode = "DEFERRED"
    try:
        with transaction.atomic(using=alias):
            connection.transaction_mode = mode
            yield
    finally:
        connection.transaction_mode = mode


def _capture_on(alias: str) -> None:
    try:
        with connections[alias].cursor() as cursor:
            sql.capture_on(cursor)
    except DatabaseError:
        pass  # the transaction is failing: its end restores the setting


class RunTransactions:
    """with RunTransactions(state, generation=...) as tx: every read and write of the run; tx.commit() last."""

    def __init__(self, state: RunState, *, generation: int):
        self.state = state
        self.generation = generation
        self.stack = ExitStack()
        self.as_of = None
        self.committed = False
        # SQLite: the change log's highest id in each written database when the run began (capture.py).
        self.watermarks: dict[str, int] = {}

    def __enter__(self) -> "RunTransactions":
        try:
            self._open()
        except BaseException:
            self.stack.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and not self.committed:
            # Leaving without commit() keeps nothing.
            error = RuntimeError("a sync run left its transactions without committing")
            self.stack.__exit__(RuntimeError, error, None)
            raise error
        return self.stack.__exit__(exc_type, exc, tb)

    def _begin(self, alias: str, *, snapshot: bool, read_only: bool, clock: bool = False,
               writer_lock: bool = False) -> None:
        try:
            self._begin_on(alias, snapshot=snapshot, read_only=read_only, clock=clock, writer_lock=writer_lock,
                           capture=alias not in (self.state.target_alias, CONTROL))
        except (OperationalError, InterfaceError) as exc:
            if region_answers(alias):
                raise
            raise RegionUnavailable(alias) from exc

    def _begin_on(self, alias: str, *, snapshot: bool, read_only: bool, capture: bool, clock: bool,
                  writer_lock: bool) -> None:
        """The transaction on `alias`, begun (PostgreSQL: its settings in one round trip, sql.begin). With `clock`,
        the run's as_of is the instant of its snapshot; with `writer_lock`, the pair's writer lock is taken."""
        connection = connections[alias]
        outermost = not connection.in_atomic_block
        if read_only and outermost and connection.vendor == "sqlite":
            self.stack.enter_context(_deferred(alias))
        else:
            self.stack.enter_context(transaction.atomic(using=alias))
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                if clock:
                    sql.clock(cursor)
                    self.as_of = timezone.now()
                return
            as_of, locked = sql.begin(cursor, snapshot=snapshot and outermost, read_only=read_only, clock=clock,
                                      writer_lock=self.state.mapping.pk if writer_lock else None, capture=capture,
                                      statement_timeout_ms=statement_timeout_ms(), idle_timeout_ms=idle_timeout_ms())
        if clock:
            self.as_of = as_of
        if not outermost and not capture:  # inside a caller's transaction (a test): capture back on after
            self.stack.callback(_capture_on, alias)
        if locked is False:
            raise AnotherRunWriting

    def _open(self) -> None:
        source, target = self.state.source_alias, self.state.target_alias
        for alias in dict.fromkeys((source, target)):
            self.stack.enter_context(_wrapped(alias))
        # The source first, so that its snapshot is the earliest instant of the run.
        self._begin(source, snapshot=True, read_only=source != target, clock=True, writer_lock=source == target)
        failpoints.failpoint("after:snapshot")
        self._begin(CONTROL, snapshot=True, read_only=False)
        # Runs between the backup's commit and the control plane's (only when both commit).
        self.stack.push(lambda kind, _e, _t: kind is None and failpoints.failpoint("between:commits"))
        if target != source:
            self._begin(target, snapshot=False, read_only=False, writer_lock=True)
        # The run's own writes on the BCP tenant are no changes to copy back (capture.py; PostgreSQL: its
        # transactions there were begun with capture off).
        for alias in dict.fromkeys((target, CONTROL)):
            if connections[alias].vendor != "postgresql":
                self.watermarks[alias] = capture.watermark(alias)

    def commit(self) -> None:
        """The fence checked under its lock, then the backup's region committed, then the control plane; raises
        SyncInterrupted (everything rolled back) when a switch moved the fence since the run started."""
        state = self.state
        failpoints.failpoint("before:commit")
        for alias, above in self.watermarks.items():
            capture.forget_own(alias, state.target_tenant, above)
        control = connections[CONTROL]
        if control.vendor == "postgresql":
            with control.cursor() as cursor:
                pair_barrier(cursor, state.mapping.pk)
        generation = (Fence.objects.using(state.target_alias).select_for_update()
                      .filter(mapping_id=state.mapping.pk).values_list("generation", flat=True).first())
        failpoints.failpoint("after:fence-check")
        if generation is None or generation != self.generation:  # moved, or the pair was removed
            raise SyncInterrupted
        # The fence is what holds; this only makes a pair flipped without a switch (by hand, or in a test) stop too.
        active = (BcpMapping.objects.using(CONTROL).filter(pk=state.mapping.pk)
                  .values_list("active_side", flat=True).first())
        if active != BcpMapping.Side.PRIMARY:
            raise SyncInterrupted
        # Leaving the stack commits in reverse order of opening: the backup's region, then the control plane,
        # then the source's read transaction ends. A commit that fails rolls back those not yet committed.
        self.committed = True
        self.stack.close()
