"""One run of the engine, inside its transactions (snapshot.py): for each type, in dependency order, plan and write;
then deletions in reverse order; then reconciliation of every type; then the fenced commit. Errors are kept as
codes with their parameters (state.errors), so that the page shows them in the reader's language."""

from collections.abc import Callable

from ..models import SyncRun
from . import failpoints
from .comparing import Plan
from .planning import Planner
from .reconcile import Reconciler
from .registry import ENTITIES
from .snapshot import RunTransactions
from .state import ProgressChannel, RunState
from .writer import Writer


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

    def _copy(self) -> None:
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
