"""Planning a type: compare it (in SQL or in Python, as the type and the database allow), then complete the plan
the same way whichever comparer made it: links in BCP ids (a record whose link is not on the BCP tenant cannot be
written), unique values (a swap needs placeholders; a record made on the BCP tenant with the same value is refused
by name or, for default roles, adopted), and the hash of every record to write."""

from collections import defaultdict

from django.db.models import Q
from django.db.models.functions import Lower

from bcp_project.regions import CONTROL

from ..models import Correlation
from . import capture, digest
from .compare_python import PythonComparer
from .comparing import Comparer, Plan
from .ids import content_hash
from .state import RunState
from .types import READ_ALL_ABOVE, Entity, ids_of


class Planner:
    def __init__(self, state: RunState):
        self.state = state
        self.in_python = PythonComparer(state)

    def comparer_for(self, entity: Entity) -> Comparer:
        """In Python: the primary's rows come from its region's snapshot, the copies and the correlations from the
        backup's region, two databases that no one query can join."""
        return self.in_python

    def read_changes(self, entities: list[Entity]) -> None:
        """The change log of both tenants, read in the run's transactions (the primary's in its snapshot): the
        primary's entries name its records; the BCP tenant's name copies, whose primary ids the correlations give
        (an entry for a record made on the BCP tenant names none, and is only consumed). A type is compared by its
        entries alone once the pair's last check (a succeeded run that compared everything or checked by digests)
        covered it, and the run is not --full; otherwise in full."""
        state = self.state
        keys = [entity.key for entity in entities]
        primary, backup = str(state.source_tenant), str(state.target_tenant)
        logged: dict[tuple[str, str], set[int]] = defaultdict(set)
        for alias, tenants in self._logs().items():
            for where, ids in capture.read(alias, tenants, keys, state.found).items():
                logged[where] |= ids
        last = digest.last_check(state)
        known = set(keys) if last is None or state.full else set(last.entity_types or keys)
        # A type compared in full this run (newly selected) makes it a check of every type, so that the next runs
        # know it too: the others are checked by digests.
        check = digest.due(last) or (last is not None and not state.full and bool(set(keys) - known))
        for entity in entities:
            key = entity.key
            # Compared in full by a run that succeeded (or checked by digests since): its changes are in the log.
            if state.full or last is None or key not in known:
                continue
            copies = sorted(logged.get((backup, key), ()))
            sources = set()
            # A queryset only for a type whose copies were changed: building one costs as much as a short read.
            for start in range(0, len(copies), READ_ALL_ABOVE):
                batch = ids_of(copies[start:start + READ_ALL_ABOVE])
                sources.update(Correlation.objects.filter(mapping=state.mapping, entity_type=key,
                                                          target_id__sync_in=batch).values_list("source_id", flat=True))
            state.changes[key] = logged.get((primary, key), set()) | sources
            if check:
                found, state.digests[key] = digest.differing(state, entity)
                state.changes[key] |= found
        # Compared in full, or by digests: the next checks can wait (digest.due).
        state.run.checked = check or not state.changes

    def _logs(self) -> dict[str, list]:
        """The databases whose change log a run reads, with the tenants it reads there."""
        state = self.state
        logs: dict[str, list] = defaultdict(list)
        for alias, tenant in ((state.source_alias, state.source_tenant), (CONTROL, state.source_tenant),
                              (state.target_alias, state.target_tenant), (CONTROL, state.target_tenant)):
            if tenant not in logs[alias]:
                logs[alias].append(tenant)
        return logs

    def plan(self, entity: Entity) -> Plan:
        state = self.state
        plan = self.comparer_for(entity).compare(entity, state.changes.get(entity.key))
        state.sources[entity.key] = plan.source  # named only when a message needs it (state.name)
        self._in_target_ids(entity, plan)
        self._check_unique(entity, plan)
        written = set(plan.creates) | set(plan.updates)
        for pk in written:
            plan.hashes[pk] = content_hash(plan.source[pk], {child.key: plan.source_children[child.key].get(pk, [])
                                                             for child in entity.children})
        known = state.digests.get(entity.key, {})
        have = {**plan.source_digests, **known}
        plan.digests = {pk: have[pk] for pk in written if pk in have}
        plan.digests.update(digest.for_writes(entity, state.source_tenant, sorted(written - set(have))))
        # Compared and equal, but their correlations held another digest (written before digests, or by hand).
        plan.refresh = {pk: value for pk, value in known.items() if pk in plan.source_ids and pk not in written}
        return plan

    def _in_target_ids(self, entity: Entity, plan: Plan) -> None:
        ids = self.state.ids
        for pk in plan.creates + list(plan.updates):
            values, missing = ids.to_target(entity.columns, entity.links, plan.source[pk])
            children = {}
            for child in entity.children:
                rows = []
                for row in plan.source_children[child.key].get(pk, []):
                    mapped, child_missing = ids.to_target(child.columns, child.links, row)
                    missing = missing or child_missing
                    rows.append(mapped)
                children[child.key] = rows
            if missing is not None:
                kind, missing_id = missing
                self._fail(plan, entity, pk, "missing_link", link_type=kind,
                           link_name=self.state.name(kind, missing_id))
                continue
            plan.values_target[pk] = values
            plan.children_target[pk] = children

    def _check_unique(self, entity: Entity, plan: Plan) -> None:
        """An update whose copy holds its unique values already keeps them: no other record can hold them."""
        checked = [pk for pk in plan.creates + list(plan.updates)
                   if pk in plan.values_target and pk not in plan.keeps_unique]
        target, correlated_targets = self._holders(entity, plan, checked) if checked else ({}, set())
        holders = {}
        for target_id, values in target.items():
            for group in entity.unique:
                holders[_unique_key(entity, group, values)] = target_id
        moving = set(plan.updates.values()) | set(plan.doomed.values())
        for pk in checked:
            own = plan.updates.get(pk)
            for group in entity.unique:
                holder = holders.get(_unique_key(entity, group, plan.values_target[pk]))
                if holder is None or holder == own:
                    continue
                if holder in moving:
                    plan.placeholders.add(holder)
                elif holder not in correlated_targets and entity.adopt_by_name and own is None \
                        and holder not in plan.adopt.values():
                    plan.adopt[pk] = holder
                else:
                    self._fail(plan, entity, pk, "conflict", field=group[-1])
                    break
        if plan.placeholders or plan.adopt:  # values not compared, or moved out of the way: all written
            plan.changed_columns = None
        for pk, holder in plan.adopt.items():
            if pk in plan.failed:
                continue
            plan.creates.remove(pk)
            plan.updates[pk] = holder
            plan.changed_children[holder] = {child.key for child in entity.children}

    def _holders(self, entity: Entity, plan: Plan, checked: list[int]) -> tuple[dict[int, tuple], set[int]]:
        """The BCP rows that may hold a unique value of a record this run writes (the same value, any case), and
        which of them are correlated, without reading the whole type."""
        state = self.state
        rows = entity.queryset(state.target_tenant)
        condition = Q()
        for group in entity.unique:
            name = group[-1]
            index = entity.columns.index(name)
            values = {plan.values_target[pk][index] for pk in checked}
            strings = {value for value in values if isinstance(value, str)}
            keyed = entity.unique_keys.get(name)
            if (keyed is None and any(not value.isascii() for value in strings)) or len(values) > READ_ALL_ABOVE:
                condition = Q()  # Python's lower() and the database's may part on other letters: read them all
                break
            condition |= Q(**{f"{name}__in": values - strings - {None}})
            if strings and keyed is not None:  # a stored key, made in Python: compared as it is
                condition |= Q(**{f"{keyed[0]}__in": {keyed[1](v) for v in strings}})
            elif strings:
                condition |= Q(pk__in=rows.alias(_unique=Lower(name)).filter(_unique__in={v.lower() for v in strings})
                               .values("pk"))
            if None in values:
                condition |= Q(**{f"{name}__isnull": True})
        holders = {pk: tuple(values) for pk, *values in rows.filter(condition).values_list("pk", *entity.columns)
                   .order_by()}
        correlations = Correlation.objects.filter(mapping=state.mapping, entity_type=entity.key)
        if len(holders) <= READ_ALL_ABOVE:
            correlations = correlations.filter(target_id__in=list(holders))
        return holders, set(correlations.values_list("target_id", flat=True))

    def _fail(self, plan: Plan, entity: Entity, pk: int, code: str, **params) -> None:
        if pk in plan.failed:
            return
        plan.failed.add(pk)
        self.state.retry[entity.key].add(pk)
        plan.values_target.pop(pk, None)
        self.state.error(code, entity, name=self.state.name(entity.key, pk), **params)


def _unique_key(entity: Entity, group: tuple[str, ...], values: tuple) -> tuple:
    row = dict(zip(entity.columns, values, strict=True))
    return (group, tuple(entity.fold(name, row[name]) if isinstance(row[name], str) else row[name] for name in group))
