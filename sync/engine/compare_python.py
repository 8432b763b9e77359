"""Comparing in Python: the rows of the type are read on both tenants and compared here: all of them, or only the
records the change log names (and their copies)."""

from ..models import Correlation
from . import digest
from .comparing import Comparer, Plan
from .prepared import Read
from .types import READ_ALL_ABOVE, Entity, ids_of, pick


class PythonComparer(Comparer):
    def compare(self, entity: Entity, only: set[int] | None = None) -> Plan:
        """Every record of the type, or (`only`) these primary ids: those that exist are compared with their
        copies, those gone are deleted on the BCP tenant."""
        state, ids = self.state, self.state.ids
        digests: dict[int, int] = {}
        if only is not None and not only:  # nothing logged for the type: nothing to read
            return Plan(source_children={child.key: {} for child in entity.children}, partial=True)
        if only is None:
            correlations = self._correlations(entity.key)
            source = entity.read(state.source_tenant)
            source_children = entity.read_children(state.source_tenant)
            target = entity.read(state.target_tenant)
            target_children = entity.read_children(state.target_tenant)
        else:
            wanted = sorted(only)
            correlations = self._correlations(entity.key, wanted)
            if len(wanted) <= READ_ALL_ABOVE:  # with their digests, which the records written store
                source, source_children, digests = digest.read_with_digests(entity, state.source_tenant, wanted)
            else:
                source = pick(entity.read, state.source_tenant, wanted)
                source_children = {child.key: pick(child.read, state.source_tenant, wanted)
                                   for child in entity.children}
            copies = sorted(correlations.values())
            target = pick(entity.read, state.target_tenant, copies)
            target_children = {child.key: pick(child.read, state.target_tenant, copies) for child in entity.children}
        plan = Plan(source=source, source_children=source_children, source_ids=set(source), partial=only is not None,
                    source_digests=digests)
        unique = [entity.columns.index(name) for group in entity.unique for name in group]
        for pk in source:
            target_id = correlations.get(pk)
            if target_id is None:
                plan.creates.append(pk)
                continue
            if target_id not in target:
                plan.stale.append(pk)
                plan.creates.append(pk)
                continue
            values = ids.to_source(entity.columns, entity.links, target[target_id])
            children = ids.children_to_source(entity, target_children, target_id)
            if not state.full and values == source[pk] and same_children(entity.children, source_children, pk,
                                                                         children):
                continue
            plan.updates[pk] = target_id
            if state.full:
                plan.changed_columns = None
            elif plan.changed_columns is not None and values != source[pk]:
                plan.changed_columns.update(name for name, have, want in zip(entity.columns, values, source[pk],
                                                                             strict=True) if have != want)
            if all(values[index] == source[pk][index] for index in unique):
                plan.keeps_unique.add(pk)
            differ = [not same_children((child,), source_children, pk, children) for child in entity.children]
            plan.changed_children[target_id] = self.changed_children(entity, differ)
        plan.doomed = {pk: target_id for pk, target_id in correlations.items() if pk not in source}
        plan.links = correlations
        return plan

    def _correlations(self, key: str, source_ids: list[int] | None = None) -> dict[int, int]:
        if source_ids is None:
            return dict(Correlation.objects.filter(mapping=self.state.mapping, entity_type=key)
                        .values_list("source_id", "target_id").iterator(chunk_size=5000))
        return correlations_of(self.state, key, source_ids)


# The correlations of some primary records of a type (compiled once, prepared.py).
_CORRELATIONS = Read(lambda using, mapping, kind, ids: Correlation.objects.using(using).filter(
    mapping_id=mapping, entity_type=kind, source_id__sync_in=ids).values_list("source_id", "target_id").order_by())


def correlations_of(state, key: str, source_ids) -> dict[int, int]:
    """primary id -> BCP id of these records of type `key`, from their correlations as they are now: read by id, or
    (more than READ_ALL_ABOVE) all of the type read and these picked."""
    if len(source_ids) <= READ_ALL_ABOVE:
        return dict(_CORRELATIONS.rows(state.target_alias, mapping=state.mapping.pk, kind=key,
                                       ids=ids_of(source_ids)))
    wanted = set(source_ids)
    rows = Correlation.objects.filter(mapping=state.mapping, entity_type=key).values_list("source_id", "target_id")
    return {pk: target for pk, target in rows.iterator(chunk_size=5000) if pk in wanted}


def same_children(kinds, source_children: dict, pk: int, children: dict[str, list[tuple]]) -> bool:
    """The BCP copy's child rows (in primary ids) of these kinds are the primary record's, in any order."""
    for child in kinds:
        wanted, have = source_children[child.key].get(pk, []), children[child.key]
        if wanted != have and (len(wanted) != len(have) or sorted(wanted, key=repr) != sorted(have, key=repr)):
            return False
    return True
