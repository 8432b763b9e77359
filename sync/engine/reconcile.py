"""Reconciliation, after every run: every primary record that did not fail has exactly one copy, with the same
content. A record missing, differing or left over fails the run by name. A run that compared a type in full checks
every record of it; one driven by the change log checks the records it compared (the digests, digest.py, prove
the others unchanged)."""

from ..models import Correlation
from .compare_python import correlations_of, same_children
from .comparing import Plan
from .state import RunState
from .types import Entity, pick

_MISSING = object()


class Reconciler:
    def __init__(self, state: RunState):
        self.state = state

    def reconcile(self, entity: Entity, plan: Plan) -> None:
        """Counts, in the database: the primary records without a correlation, the correlations whose copy or
        whose primary record is gone. Content: the records this run left alone were compared with their copies in
        this run, when it planned; the ones it wrote are read back now and compared with the primary's rows the
        plan read (the child rows the run left alone are the ones it compared, _children_kept)."""
        state, key = self.state, entity.key
        written = sorted((set(plan.creates) | set(plan.updates)) - plan.failed)
        if plan.partial:  # the records compared: their correlations and copies, read once for both checks
            scope = state.changes.get(key, set())
            if plan.creates or plan.doomed or plan.adopt:
                links = self._correlations_of(key, sorted(scope))
            else:
                # No correlation of these records was made or removed (updates only set their hashes), in the
                # run's own transaction of the backup's region, whose writer lock it holds: the ones the plan read.
                links = {pk: target for pk, target in plan.links.items() if pk in scope}
            target = pick(entity.read, state.target_tenant, sorted(links.values()))
            unlinked, orphaned, unsourced = _compare_ids(plan.source_ids, links, set(target))
        else:
            unlinked, orphaned, unsourced = self._counts(entity, plan.source_ids)
            links = self._correlations_of(key, written)
            target = None
        expected = plan.source_ids - plan.failed
        missing = (unlinked | orphaned) & expected
        extra = unsourced - plan.source_ids
        differing = []
        written = [pk for pk in written if pk in links]
        target_ids = [links[pk] for pk in written]
        if target is None:
            target = pick(entity.read, state.target_tenant, target_ids)
        kept = self._children_kept(entity, plan, written)
        children = {child.key: pick(child.read, state.target_tenant,
                                    [links[pk] for pk in written if pk not in kept[child.key]])
                    for child in entity.children}
        for pk in written:
            target_id = links[pk]
            values = target.get(target_id, _MISSING)
            if values is _MISSING:
                missing.add(pk)
                continue
            # What the plan hashed (plan.hashes) is the primary's record: equal values are equal hashes.
            if state.ids.to_source(entity.columns, entity.links, values) != plan.source[pk]:
                differing.append(pk)
                continue
            rewritten = [child for child in entity.children if pk not in kept[child.key]]
            if rewritten and not same_children(rewritten, plan.source_children, pk,
                                               state.ids.children_to_source(entity, children, target_id, rewritten)):
                differing.append(pk)
        state.retry[key] |= missing | set(differing)
        if missing:
            state.errors.append({"code": "reconcile_missing", "type": key, "count": len(missing),
                                 "names": sorted(state.name(key, pk) for pk in missing)[:10]})
        if differing:
            state.errors.append({"code": "reconcile_differs", "type": key, "count": len(differing),
                                 "names": sorted(state.name(key, pk) for pk in differing)[:10]})
        undeleted = extra - set(plan.doomed)
        if undeleted:
            state.errors.append({"code": "reconcile_extra", "type": key, "count": len(undeleted)})

    def _children_kept(self, entity: Entity, plan: Plan, written: list[int]) -> dict[str, set[int]]:
        """Per child, the records written whose rows of that child this run did not touch: updated records whose
        child rows the plan found equal to the primary's, so not rewritten, in a run that deleted nothing (a delete
        may reach another record's rows). Those rows are the ones the plan compared, in the run's transaction under
        the pair's writer lock: they are not read again."""
        if self.state.deleted or not entity.children:
            return {child.key: set() for child in entity.children}
        updated = [(pk, plan.updates[pk]) for pk in written if pk in plan.updates and pk not in plan.adopt]
        return {child.key: {pk for pk, target_id in updated
                            if child.key not in plan.changed_children.get(target_id, ())}
                for child in entity.children}

    def _counts(self, entity: Entity, source_ids: set[int]) -> tuple[set[int], set[int], set[int]]:
        """Primary ids: of the records without a correlation, of the correlations whose copy is gone, of the
        correlations whose primary record is gone. The primary's ids are the plan's (read in the run's snapshot,
        they are what a second read in it would return); the copies' ids and the correlations are read in the
        backup's region after the writes; they are compared here."""
        state = self.state
        target_ids = set(entity.queryset(state.target_tenant).values_list("pk", flat=True).order_by())
        correlations = dict(Correlation.objects.filter(mapping=state.mapping, entity_type=entity.key)
                            .values_list("source_id", "target_id").iterator(chunk_size=5000))
        return _compare_ids(source_ids, correlations, target_ids)

    def _correlations_of(self, key: str, source_ids: list[int]) -> dict[int, int]:
        """primary id -> BCP id of these records, from the correlations as they are now."""
        return correlations_of(self.state, key, source_ids) if source_ids else {}


def _compare_ids(source_ids: set[int], correlations: dict[int, int],
                 target_ids: set[int]) -> tuple[set[int], set[int], set[int]]:
    """(records without a correlation, correlations whose copy is gone, correlations whose record is gone)."""
    unlinked = source_ids - set(correlations)
    orphaned = {source for source, target in correlations.items() if target not in target_ids}
    unsourced = set(correlations) - source_ids
    return unlinked, orphaned, unsourced
