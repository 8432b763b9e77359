"""What planning a type starts from: the `Plan`, and the one interface of the ways of comparing both tenants.

A comparer looks at every record of a type on the primary and its copy on the BCP tenant (links expressed in
primary ids through the correlations) and returns a plan with every field of the comparison filled in: which
records to create, update (and which of their children to rewrite) or delete, which copies were deleted on the
BCP tenant, and the primary's rows of the records to write. Planning (planning.py) completes it the same way
whichever comparer made it. Implementation: in Python (compare_python.py), which reads the primary's region and
the backup's apart; a comparer that did more of the work inside either database would fit the same interface.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from .state import RunState
from .types import Entity


@dataclass
class Plan:
    """What one type needs: computed from the reads, before anything is written."""

    # Filled in by a comparer.
    # The primary's rows that this run writes, with their children.
    source: dict[int, tuple] = field(default_factory=dict)
    source_children: dict[str, dict[int, list[tuple]]] = field(default_factory=dict)
    source_ids: set[int] = field(default_factory=set)  # every primary record compared (that exists)
    partial: bool = False  # only the records the change log named were compared
    creates: list[int] = field(default_factory=list)  # source ids
    updates: dict[int, int] = field(default_factory=dict)  # source id -> target id
    stale: list[int] = field(default_factory=list)  # source ids whose copy was deleted on the BCP tenant
    keeps_unique: set[int] = field(default_factory=set)  # source ids of updates whose copy has their unique values
    doomed: dict[int, int] = field(default_factory=dict)  # source id (gone) -> target id
    changed_children: dict[int, set[str]] = field(default_factory=dict)  # target id -> child keys to rewrite
    # The columns that differ in at least one update (the others are the same in every copy updated): what the
    # updates write. None: every column (a --full run, a record taken over, unique values moved out of the way).
    changed_columns: set[str] | None = field(default_factory=set)
    links: dict[int, int] = field(default_factory=dict)  # source id -> target id: the correlations read to compare
    source_digests: dict[int, int] = field(default_factory=dict)  # source id -> digest, when read with the rows
    # Completed by planning.
    hashes: dict[int, str] = field(default_factory=dict)
    digests: dict[int, int] = field(default_factory=dict)  # source id -> its digest (digest.py), of the records written
    refresh: dict[int, int] = field(default_factory=dict)  # source id -> digest, of correlations that had a stale one
    adopt: dict[int, int] = field(default_factory=dict)  # source id -> native target id taken over
    placeholders: set[int] = field(default_factory=set)  # target ids whose unique values must move first
    failed: set[int] = field(default_factory=set)
    values_target: dict[int, tuple] = field(default_factory=dict)  # source id -> values in BCP ids
    children_target: dict[int, dict[str, list[tuple]]] = field(default_factory=dict)


class Comparer(ABC):
    def __init__(self, state: RunState):
        self.state = state

    @abstractmethod
    def compare(self, entity: Entity, only: set[int] | None = None) -> Plan:
        """Every record of the type on both tenants compared, or only the primary ids `only`; the plan's comparison
        fields all filled in."""

    def changed_children(self, entity: Entity, differ: list[bool]) -> set[str]:
        """The child keys of a record to rewrite: those that differ, and every one after a cascading one."""
        changed = set()
        cascade = False
        for child, differs in zip(entity.children, differ, strict=True):
            if differs or cascade or self.state.full:
                changed.add(child.key)
                cascade = cascade or child.cascades
        return changed
