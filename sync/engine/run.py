"""One run of the engine: for each type, in dependency order, plan and write; then deletions in reverse order;
then reconciliation of every type. Errors are kept as codes with their parameters (state.errors), so that the
page shows them in the reader's language."""

from collections.abc import Callable

from ..models import SyncRun
from . import failpoints
from .comparing import Plan
from .planning import Planner
from .reconcile import Reconciler
from .registry import ENTITIES
from .state import RunState
from .writer import Writer


class Engine:
    def __init__(self, run: SyncRun, *, entity_keys: list[str], full: bool = False,
                 on_progress: Callable[[SyncRun], None] | None = None):
        chosen = set(entity_keys)
        self.entities = [entity for entity in ENTITIES if entity.key in chosen]
        self.state = RunState(run, keys=[entity.key for entity in self.entities], full=full,
                              on_progress=on_progress)
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

    def execute(self) -> None:
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
