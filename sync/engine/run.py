"""One run of the engine, inside its transactions (snapshot.py): for each type, in dependency order, plan and write;
then deletions in reverse order; then reconciliation of every type; then the fenced commit. Errors are kept as
codes with their parameters (state.errors), so that the page shows them in the reader's language."""

import logging
from collections.abc import Callable

from ..models import SyncRun
from . import capture, failpoints
from .comparing import Plan
from .planning import Planner
from .reconcile import Reconciler
from .registry import ENTITIES
from .snapshot import RunTransactions
from .state import ProgressChannel, RunState
from .types import db_for
from .writer import Writer

logger = logging.getLogger(__name__)


class Engine:
    def __init__(self, run: SyncRun, *, entity_keys: list[str], full: bool = False,
                 on_progress: Callable[[SyncRun], None] | None = None, progress: ProgressChannel | None = None):
        chosen = set(entity_keys)
        self.entities = [entity for entity in ENTITIES if entity.key in chosen]
        self.state = RunState(run, keys=[entity.key for entity in self.entities], full=full,
                              on_progress=on_progress, progress=progress)
        self.as_of = None
        self.planner = Planner(self.state)
        self.writer = Writer(self.state)
        self.reconciler = Reconciler(self.state)
        self.plans: dict[str, Plan] = {}

    @property
    def counts(self):
        return self.state.counts

    @property
    def errors(self) -> list[dict]:
        return self.state.errors

    def execute(self, *, generation: int) -> None:
        """The whole run in its transactions; committed only when the fence still holds `generation`. A run with
        errors commits too: what it could copy is copied, and the errors name what it could not."""
        with RunTransactions(self.state, generation=generation) as transactions:
            self.as_of = transactions.as_of
            self._copy()
            transactions.commit()
        self._consume()

    def _consume(self) -> None:
        """After the backup committed: the change-log rows this run read are deleted (a crash before that repeats
        work that changes nothing), and the records it could not finish are logged again for the next run."""
        failed = capture.consume(self.state.found)
        if failed:
            logger.warning("sync run %s: change log not cleared in %s", self.state.run.pk, ", ".join(failed))
        state = self.state
        for entity in self.entities:
            retry = state.retry[entity.key]
            if retry:
                capture.log_again(db_for(entity.model, state.source_tenant), state.source_tenant, entity.key, retry)

    def _copy(self) -> None:
        self.planner.read_changes(self.entities)
        for entity in self.entities:
            plan = self.plans[entity.key] = self.planner.plan(entity)
            self.writer.upsert(entity, plan)
            failpoints.failpoint(f"after:{entity.key}")
        for entity in reversed(self.entities):
            self.writer.delete(entity, self.plans[entity.key])
        failpoints.failpoint("before:reconcile")
        for entity in self.entities:
            self.reconciler.reconcile(entity, self.plans[entity.key])
        self.state.save_progress("")
