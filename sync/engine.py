"""The one-way copy of a primary tenant's configuration to its BCP tenant.

For each entity type, in dependency order, the engine compares every record on both tenants, with the
BCP rows' links (and their children's) expressed in primary ids through the correlations: an equal record
costs no write (and no hash; written records keep theirs on the correlation). On PostgreSQL one query per
type does the comparing inside the database and sends only the records that need work, which are then
read; elsewhere (SQLite) both tenants are read as plain tuples and compared here. What differs is written
in bulk, in chunks; each chunk writes its rows, their children and their correlations in one transaction,
so a worker killed anywhere leaves either a whole chunk or nothing, and the next run, which compares again
from what is really there, finishes the work. Deletions follow in reverse order. Afterwards every type is
reconciled: its counts through the correlations in one query, and every record written is read back and
its hash compared with the primary's; a record that differs fails the run by name.

Records made on the BCP tenant itself have no correlation and are never written, except the default
roles, which are adopted by name. Errors are kept as codes with their parameters, so that the page
shows them in the reader's language.
"""

import hashlib
import logging
import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, Q
from django.db.models.functions import Lower
from django.utils import timezone

from tenants.models import BcpMapping

from .entities import BY_KEY, ENTITIES, Entity, _chunks, insert_rows, update_rows
from .models import Correlation, SyncRun

logger = logging.getLogger(__name__)

_MISSING = object()
# More ids than this are not sent in an IN list: the whole type is read and the rows picked in Python.
READ_ALL_ABOVE = 2000
# A type that wrote this many records has the statistics of its tables renewed (PostgreSQL).
ANALYZE_AFTER = 1000


def _pick(read, tenant_id, ids: list[int]) -> dict:
    """read(tenant_id, ids) for a few ids; for many, one read of them all, keeping those asked for."""
    if not ids:
        return {}
    if len(ids) <= READ_ALL_ABOVE:
        return read(tenant_id, ids)
    wanted = set(ids)
    return {pk: rows for pk, rows in read(tenant_id).items() if pk in wanted}


@contextmanager
def _comparing():
    """A cursor in a transaction of its own (one snapshot) for the comparing queries. On PostgreSQL, with no JIT
    and no parallel workers: for joins of some ten thousand rows both cost more to start than they save."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield cursor


class _Maps(dict):
    """Correlation maps per entity type, loaded from the database the first time a type is asked for."""

    def __init__(self, load: Callable[[str], None]):
        super().__init__()
        self._load = load

    def __missing__(self, kind: str) -> dict[int, int]:
        self._load(kind)
        return dict.__getitem__(self, kind)


class SyncInterrupted(Exception):
    """The BCP tenant became active while the run was going: it stops before its next write."""


class SyncCrash(Exception):
    """Raised by a failpoint in tests: the run stops there as if its worker had been killed."""


def failpoint(name: str) -> None:
    """Test hook. With settings.SYNC_FAILPOINTS on, BCP_SYNC_FAILPOINT=<name> kills the process there
    (os._exit, as a killed worker) and BCP_SYNC_RAISE_AT=<name> raises SyncCrash."""
    if not getattr(settings, "SYNC_FAILPOINTS", False):
        return
    if os.environ.get("BCP_SYNC_FAILPOINT") == name:
        os._exit(137)
    if os.environ.get("BCP_SYNC_RAISE_AT") == name:
        raise SyncCrash(name)


def content_hash(values: tuple, children: dict[str, list[tuple]]) -> str:
    payload = repr((values, tuple((key, sorted(rows, key=repr)) for key, rows in sorted(children.items()))))
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def _same_children(entity: Entity, source_children: dict, pk: int, children: dict[str, list[tuple]]) -> bool:
    """The BCP copy's child rows (in primary ids) are the primary record's, in any order."""
    for child in entity.children:
        wanted, have = source_children[child.key].get(pk, []), children[child.key]
        if wanted != have and (len(wanted) != len(have) or sorted(wanted, key=repr) != sorted(have, key=repr)):
            return False
    return True


def _unique_key(entity: Entity, group: tuple[str, ...], values: tuple) -> tuple:
    row = dict(zip(entity.columns, values, strict=True))
    return (group, tuple(entity.fold(name, row[name]) if isinstance(row[name], str) else row[name] for name in group))


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


@dataclass
class Plan:
    """What one type needs: computed from the reads, before anything is written."""

    # The primary's rows that this run writes, with their children (on the Python path: all of them).
    source: dict[int, tuple] = field(default_factory=dict)
    source_children: dict[str, dict[int, list[tuple]]] = field(default_factory=dict)
    source_ids: set[int] = field(default_factory=set)  # every primary record when the type was compared
    hashes: dict[int, str] = field(default_factory=dict)
    creates: list[int] = field(default_factory=list)  # source ids
    updates: dict[int, int] = field(default_factory=dict)  # source id -> target id
    adopt: dict[int, int] = field(default_factory=dict)  # source id -> native target id taken over
    stale: list[int] = field(default_factory=list)  # source ids whose copy was deleted on the BCP tenant
    placeholders: set[int] = field(default_factory=set)  # target ids whose unique values must move first
    keeps_unique: set[int] = field(default_factory=set)  # source ids of updates whose copy has their unique values
    doomed: dict[int, int] = field(default_factory=dict)  # source id (gone) -> target id
    failed: set[int] = field(default_factory=set)
    changed_children: dict[int, set[str]] = field(default_factory=dict)  # target id -> child keys to rewrite
    values_target: dict[int, tuple] = field(default_factory=dict)  # source id -> values in BCP ids
    children_target: dict[int, dict[str, list[tuple]]] = field(default_factory=dict)


class Engine:
    def __init__(self, run: SyncRun, *, entity_keys: list[str], full: bool = False,
                 on_progress: Callable[[SyncRun], None] | None = None):
        self.run = run
        self.mapping = run.mapping
        self.source_tenant = self.mapping.primary_id
        self.target_tenant = self.mapping.secondary_id
        self.entities = [entity for entity in ENTITIES if entity.key in set(entity_keys)]
        self.full = full
        # primary id -> BCP id and back, per type, loaded when a run first needs a type's links
        self.forward: dict[str, dict[int, int]] = _Maps(self._ensure_maps)
        self.reverse: dict[str, dict[int, int]] = _Maps(self._ensure_maps)
        self.names: dict[str, dict[int, str]] = {}  # primary names of the records read, for messages
        self.counts = {entity.key: TypeCounts() for entity in self.entities}
        self.errors: list[dict] = []
        self.plans: dict[str, Plan] = {}
        self.on_progress = on_progress

    # --- bookkeeping -----------------------------------------------------------------------------

    @contextmanager
    def _write(self):
        """One write transaction. It holds the mapping's row lock (FOR NO KEY UPDATE) while it writes, and a
        switch takes FOR UPDATE on that row: a switch waits for the chunk being written, and the run stops
        before its next chunk once the BCP tenant is active. The two never interleave."""
        with transaction.atomic():
            active = (BcpMapping.objects.select_for_update(no_key=True).filter(pk=self.mapping.pk)
                      .values_list("active_side", flat=True).first())
            if active != BcpMapping.Side.PRIMARY:
                raise SyncInterrupted
            yield

    def _error(self, code: str, entity: Entity, **params) -> None:
        self.errors.append({"code": code, "type": entity.key, **params})

    def _save_progress(self, current: str = "") -> None:
        run = self.run
        run.counts = {key: counts.as_dict() for key, counts in self.counts.items()}
        run.current_type = current
        run.heartbeat_at = timezone.now()
        SyncRun.objects.filter(pk=run.pk).update(counts=run.counts, current_type=current,
                                                 heartbeat_at=run.heartbeat_at)
        if self.on_progress is not None:
            self.on_progress(run)

    def _load_correlations(self, key: str) -> dict[int, tuple[int, str]]:
        rows = Correlation.objects.filter(mapping=self.mapping, entity_type=key).values_list(
            "source_id", "target_id", "content_hash")
        return {source: (target, digest) for source, target, digest in rows.iterator(chunk_size=5000)}

    def _ensure_maps(self, key: str) -> None:
        """Links to a type that is not part of this run still resolve through its correlations."""
        if key not in self.forward:
            rows = Correlation.objects.filter(mapping=self.mapping, entity_type=key)
            forward = dict(rows.values_list("source_id", "target_id").iterator(chunk_size=5000))
            dict.__setitem__(self.forward, key, forward)
            dict.__setitem__(self.reverse, key, {target: source for source, target in forward.items()})

    def _remember(self, key: str, pairs) -> None:
        """New correlations, in the maps already loaded (one loaded later reads them from the database)."""
        if key in self.forward:
            for pk, target_id in pairs:
                self.forward[key][pk] = target_id
                self.reverse[key][target_id] = pk

    def _name(self, key: str, pk: int) -> str:
        """A primary record's name for a message: from this run's reads, or read now."""
        known = self.names.setdefault(key, {})
        if pk not in known:
            values = BY_KEY[key].read(self.source_tenant, [pk]).get(pk) if key in BY_KEY else None
            known[pk] = BY_KEY[key].describe(values) if values else str(pk)
        return known[pk]

    # --- expressing rows in the other tenant's ids ----------------------------------------------------

    def _to_source(self, columns: tuple[str, ...], links: dict[str, str], values: tuple) -> tuple:
        if not links:
            return values
        out = list(values)
        for index, column in enumerate(columns):
            kind = links.get(column)
            if kind is not None and out[index] is not None:
                out[index] = self.reverse[kind].get(out[index], ("bcp", out[index]))
        return tuple(out)

    def _to_target(self, columns: tuple[str, ...], links: dict[str, str], values: tuple):
        """(values in BCP ids, None) or (None, (entity type, primary id) of the first link not on the BCP tenant)."""
        if not links:
            return values, None
        out = list(values)
        for index, column in enumerate(columns):
            kind = links.get(column)
            if kind is not None and out[index] is not None:
                target = self.forward[kind].get(out[index])
                if target is None:
                    return None, (kind, out[index])
                out[index] = target
        return tuple(out), None

    def _children_to_source(self, entity: Entity, children: dict[str, dict[int, list[tuple]]], pk) -> dict:
        return {child.key: [self._to_source(child.columns, child.links, row) for row in children[child.key].get(pk, [])]
                for child in entity.children}

    # --- one run ----------------------------------------------------------------------------------

    def execute(self) -> None:
        for entity in self.entities:
            self._upsert(entity)
            failpoint(f"after:{entity.key}")
        for entity in reversed(self.entities):
            self._delete(entity)
        failpoint("before:reconcile")
        for entity in self.entities:
            self._reconcile(entity)
        self._save_progress("")

    def _plan(self, entity: Entity) -> Plan:
        key = entity.key
        plan = Plan()
        in_sql = connection.vendor == "postgresql" and entity.compares_in_sql
        if in_sql:
            self._compare_in_sql(entity, plan)
        else:
            target, correlated_targets = self._compare_in_python(entity, plan)
        self.names[key] = {pk: entity.describe(values) for pk, values in plan.source.items()}

        # Links in BCP ids; a record whose link is not on the BCP tenant cannot be written.
        source, source_children = plan.source, plan.source_children
        for pk in plan.creates + list(plan.updates):
            values, missing = self._to_target(entity.columns, entity.links, source[pk])
            children = {}
            for child in entity.children:
                rows = []
                for row in source_children[child.key].get(pk, []):
                    mapped, child_missing = self._to_target(child.columns, child.links, row)
                    missing = missing or child_missing
                    rows.append(mapped)
                children[child.key] = rows
            if missing is not None:
                kind, missing_id = missing
                self._fail(plan, entity, pk, "missing_link", link_type=kind, link_name=self._name(kind, missing_id))
                continue
            plan.values_target[pk] = values
            plan.children_target[pk] = children

        # Unique values (names, usernames, addresses): a swap needs placeholders; a record made on the
        # BCP tenant with the same value is refused by name (or, for default roles, adopted).
        # An update whose copy holds its unique values already keeps them: no other record can hold them.
        checked = [pk for pk in plan.creates + list(plan.updates)
                   if pk in plan.values_target and pk not in plan.keeps_unique]
        if not checked:
            target, correlated_targets = {}, set()
        elif in_sql:
            target, correlated_targets = self._holders(entity, plan, checked)
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
        for pk, holder in plan.adopt.items():
            if pk in plan.failed:
                continue
            plan.creates.remove(pk)
            plan.updates[pk] = holder
            plan.changed_children[holder] = {child.key for child in entity.children}
        for pk in set(plan.creates) | set(plan.updates):
            plan.hashes[pk] = content_hash(source[pk], {child.key: source_children[child.key].get(pk, [])
                                                        for child in entity.children})
        return plan

    def _changed_children(self, entity: Entity, differ: list[bool]) -> set[str]:
        """The child keys of a record to rewrite: those that differ, and every one after a cascading one."""
        changed = set()
        cascade = False
        for child, differs in zip(entity.children, differ, strict=True):
            if differs or cascade or self.full:
                changed.add(child.key)
                cascade = cascade or child.cascades
        return changed

    def _compare_in_python(self, entity: Entity, plan: Plan) -> tuple[dict[int, tuple], set[int]]:
        """Reads every row of the type on both tenants and compares them here (SQLite, and types that cannot be
        compared in SQL). Returns the BCP rows and the correlated BCP ids, for the unique values."""
        correlations = self._load_correlations(entity.key)
        source = entity.read(self.source_tenant)
        source_children = entity.read_children(self.source_tenant)
        target = entity.read(self.target_tenant)
        target_children = entity.read_children(self.target_tenant)
        plan.source, plan.source_children, plan.source_ids = source, source_children, set(source)
        for pk in source:
            link = correlations.get(pk)
            if link is None:
                plan.creates.append(pk)
                continue
            target_id = link[0]
            if target_id not in target:
                plan.stale.append(pk)
                plan.creates.append(pk)
                continue
            values = self._to_source(entity.columns, entity.links, target[target_id])
            children = self._children_to_source(entity, target_children, target_id)
            if not self.full and values == source[pk] and _same_children(entity, source_children, pk, children):
                continue
            plan.updates[pk] = target_id
            differ = [sorted(source_children[child.key].get(pk, []), key=repr) != sorted(children[child.key], key=repr)
                      for child in entity.children]
            plan.changed_children[target_id] = self._changed_children(entity, differ)
        plan.doomed = {pk: target_id for pk, (target_id, _digest) in correlations.items() if pk not in source}
        return target, {target_id for target_id, _digest in correlations.values()}

    def _compare_in_sql(self, entity: Entity, plan: Plan) -> None:
        """PostgreSQL: the comparison runs in the database, which sends only the records that need work; then
        only those are read, with their children."""
        sql, params = self._difference_sql(entity)
        with _comparing() as cursor:
            cursor.execute(sql, params)
            differences = cursor.fetchall()
            ids = entity.queryset(self.source_tenant).values_list("pk").order_by()
            cursor.execute(*ids.query.sql_with_params())
            plan.source_ids = {pk for (pk,) in cursor.fetchall()}
        creates, updates, children_differ = [], {}, {}
        for source_id, target_id, source_gone, target_gone, keeps_unique, *differ in differences:
            if target_id is None:
                creates.append(source_id)
            elif source_gone:
                plan.doomed[source_id] = target_id
            elif target_gone:
                plan.stale.append(source_id)
                creates.append(source_id)
            else:
                updates[source_id] = target_id
                children_differ[target_id] = differ
                if keeps_unique:
                    plan.keeps_unique.add(source_id)
        wanted = sorted(set(creates) | set(updates))
        plan.source = _pick(entity.read, self.source_tenant, wanted)
        plan.source_children = {child.key: _pick(child.read, self.source_tenant, wanted)
                                for child in entity.children}
        # A record deleted on the primary since the comparison is left to the next run.
        plan.creates = sorted(pk for pk in creates if pk in plan.source)
        plan.updates = {pk: target_id for pk, target_id in sorted(updates.items()) if pk in plan.source}
        plan.stale = [pk for pk in plan.stale if pk in plan.source]
        for target_id in plan.updates.values():
            plan.changed_children[target_id] = self._changed_children(entity, children_differ[target_id])

    def _difference_sql(self, entity: Entity) -> tuple[str, list]:
        """One query: (primary id, BCP id, primary record gone, copy gone, copy has the unique values, then for each
        child whether its rows differ) for every correlated pair whose copy is missing, gone from the primary, or
        differs (its columns, links expressed in primary ids through the correlations, or the multiset of any of
        its children's rows), and (primary id, NULL, false, true, ...) for every primary record without a
        correlation. With --full every pair is listed. PostgreSQL only."""
        quote = connection.ops.quote_name
        correlations = quote(Correlation._meta.db_table)
        params: list = []

        def subquery(queryset) -> str:
            sql, sql_params = queryset.query.sql_with_params()
            params.extend(sql_params)
            return sql

        def in_primary_ids(columns, links, table, prefix) -> tuple[list[str], str]:
            """The columns of `table` (a BCP tenant's rows) with each link replaced by the primary id it is
            correlated with, -1 for a record that has no correlation (never a primary id), NULL for NULL."""
            expressions, joins = [], []
            for index, column in enumerate(columns):
                kind = links.get(column)
                if kind is None:
                    expressions.append(f"{table}.c{index}")
                    continue
                alias = f"{prefix}{index}"
                params.extend([self.mapping.pk, kind])
                joins.append(f"LEFT JOIN {correlations} {alias} ON {alias}.mapping_id = %s "
                             f"AND {alias}.entity_type = %s AND {alias}.target_id = {table}.c{index}")
                expressions.append(f"CASE WHEN {table}.c{index} IS NULL THEN NULL "
                                   f"ELSE COALESCE({alias}.source_id, -1) END")
            return expressions, " ".join(joins)

        def names(first: str, count: int) -> str:
            return ", ".join([first, *(f"c{index}" for index in range(count))])

        params.extend([self.mapping.pk, entity.key])
        # NOT MATERIALIZED: the planner sees through to the tables, their statistics and their keys.
        ctes = [f"c AS NOT MATERIALIZED (SELECT source_id, target_id FROM {correlations} "  # noqa: S608
                "WHERE mapping_id = %s AND entity_type = %s)"]
        width = len(entity.columns)
        ctes.append(f"s({names('id', width)}) AS NOT MATERIALIZED ({subquery(entity.rows(self.source_tenant))})")
        ctes.append(f"t({names('id', width)}) AS NOT MATERIALIZED ({subquery(entity.rows(self.target_tenant))})")
        for number, child in enumerate(entity.children):
            width_child = len(child.columns)
            columns = names("p", width_child)
            ctes.append(f"cs{number}({columns}) AS NOT MATERIALIZED ({subquery(child.rows(self.source_tenant))})")
            ctes.append(f"ct{number}({columns}) AS NOT MATERIALIZED ({subquery(child.rows(self.target_tenant))})")
            expressions, joins = in_primary_ids(child.columns, child.links, f"ct{number}", f"k{number}_")
            # The BCP child rows in primary ids (parents too); a parent whose two multisets of rows differ has a
            # row whose count differs, i.e. whose +1 (primary) and -1 (BCP) do not add up to 0.
            selected = ", ".join(["c.source_id", *expressions])
            ctes.append(f"d{number}(p) AS (SELECT p FROM ("  # noqa: S608
                        f"SELECT {columns}, 1 AS n FROM cs{number} UNION ALL SELECT {selected}, -1 "
                        f"FROM ct{number} JOIN c ON c.target_id = ct{number}.p {joins}"
                        f") x GROUP BY {columns} HAVING sum(n) <> 0)")
        expressions, joins = in_primary_ids(entity.columns, entity.links, "t", "l")
        children_differ = [f"e{number}.p IS NOT NULL" for number in range(len(entity.children))]
        joins += "".join(f" LEFT JOIN (SELECT DISTINCT p FROM d{number}) e{number} "  # noqa: S608
                         f"ON e{number}.p = c.source_id" for number in range(len(entity.children)))
        if self.full:
            differs = ["TRUE"]
        else:
            differs = list(children_differ)
            if width:
                differs.insert(0, f"ROW({', '.join(f's.c{index}' for index in range(width))}) "
                                  f"IS DISTINCT FROM ROW({', '.join(expressions)})")
        # Whether the copy holds the record's unique values already (then no other record can hold them).
        keeps = " AND ".join(f"ROW({', '.join(f's.c{entity.columns.index(name)}' for name in group)}) IS NOT DISTINCT "
                             f"FROM ROW({', '.join(expressions[entity.columns.index(name)] for name in group)})"
                             for group in entity.unique) or "TRUE"
        selected = ", ".join(["COALESCE(c.source_id, s.id)", "c.target_id", "s.id IS NULL", "t.id IS NULL", keeps,
                              *children_differ])
        # Only quoted names from the models' metadata, aliases made here and the querysets' own SQL go into the text.
        sql = (f"WITH {', '.join(ctes)} SELECT {selected} FROM c "  # noqa: S608
               f"FULL JOIN s ON s.id = c.source_id LEFT JOIN t ON t.id = c.target_id {joins} "
               f"WHERE c.source_id IS NULL OR s.id IS NULL OR t.id IS NULL OR {' OR '.join(differs or ['FALSE'])}")
        return sql, params

    def _holders(self, entity: Entity, plan: Plan, checked: list[int]) -> tuple[dict[int, tuple], set[int]]:
        """The BCP rows that may hold a unique value of a record this run writes (the same value, any case), and
        which of them are correlated, without reading the whole type."""
        rows = entity.queryset(self.target_tenant)
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
        correlations = Correlation.objects.filter(mapping=self.mapping, entity_type=entity.key)
        if len(holders) <= READ_ALL_ABOVE:
            correlations = correlations.filter(target_id__in=list(holders))
        return holders, set(correlations.values_list("target_id", flat=True))

    def _fail(self, plan: Plan, entity: Entity, pk: int, code: str, **params) -> None:
        if pk in plan.failed:
            return
        plan.failed.add(pk)
        plan.values_target.pop(pk, None)
        self._error(code, entity, name=self._name(entity.key, pk), **params)

    def _upsert(self, entity: Entity) -> None:
        key = entity.key
        plan = self._plan(entity)
        self.plans[key] = plan
        counts = self.counts[key]
        counts.total = len(plan.source_ids) + len(plan.doomed)
        counts.failed = len(plan.failed)
        written = set(plan.creates) | set(plan.updates)
        counts.unchanged = len(plan.source_ids) - len(written | plan.failed)
        counts.done = counts.unchanged + counts.failed
        self._save_progress(key)
        now = timezone.now()

        if plan.placeholders:
            with self._write():
                entity.set_placeholders(self.target_tenant, sorted(plan.placeholders))

        updates = [(pk, target_id) for pk, target_id in plan.updates.items() if pk not in plan.failed]
        for chunk in _chunks(updates):
            with self._write():
                entity.update(self.target_tenant, {target_id: plan.values_target[pk] for pk, target_id in chunk})
                self._rewrite_children(entity, plan, chunk)
                adopted = [(pk, target_id) for pk, target_id in chunk if pk in plan.adopt]
                Correlation.objects.bulk_create([
                    Correlation(mapping=self.mapping, entity_type=key, source_id=pk, target_id=target_id,
                                content_hash=plan.hashes[pk], synced_at=now) for pk, target_id in adopted])
                existing = Correlation.objects.filter(mapping=self.mapping, entity_type=key,
                                                      source_id__in=[pk for pk, _t in chunk if pk not in plan.adopt])
                update_rows(Correlation, {correlation_id: {"content_hash": plan.hashes[source_id], "synced_at": now}
                                          for correlation_id, source_id in existing.values_list("pk", "source_id")})
                failpoint(f"in:{key}:update")
                self._remember(key, adopted)
                counts.updated += len(chunk)
                counts.done += len(chunk)
                self._save_progress(key)

        creates = [pk for pk in plan.creates if pk not in plan.failed]
        stale = set(plan.stale)
        for chunk in _chunks(creates):
            with self._write():
                gone = [pk for pk in chunk if pk in stale]
                if gone:
                    Correlation.objects.filter(mapping=self.mapping, entity_type=key, source_id__in=gone).delete()
                new_ids = entity.create(self.target_tenant, [plan.values_target[pk] for pk in chunk])
                pairs = list(zip(chunk, new_ids, strict=True))
                for child in entity.children:
                    rows = {target_id: plan.children_target[pk][child.key] for pk, target_id in pairs}
                    child.insert(self.target_tenant, {target_id: kids for target_id, kids in rows.items() if kids})
                insert_rows(Correlation, [
                    {"mapping_id": self.mapping.pk, "entity_type": key, "source_id": pk, "target_id": target_id,
                     "content_hash": plan.hashes[pk], "synced_at": now} for pk, target_id in pairs], returning=False)
                failpoint(f"in:{key}:create")
                counts.created += len(chunk)
                counts.done += len(chunk)
                self._save_progress(key)
            self._remember(key, pairs)
        if len(written) >= ANALYZE_AFTER:
            self._analyze(entity)

    def _analyze(self, entity: Entity) -> None:
        """PostgreSQL: fresh statistics for the tables a type just filled. The comparing queries join tens of
        thousands of rows; planned on the statistics of an empty table (a first sync) they become nested loops
        that take minutes instead of milliseconds."""
        if connection.vendor != "postgresql":
            return
        quote = connection.ops.quote_name
        tables = dict.fromkeys([entity.model._meta.db_table, *(child.model._meta.db_table for child in entity.children),
                                Correlation._meta.db_table])
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(quote(table) for table in tables)}")

    def _rewrite_children(self, entity: Entity, plan: Plan, chunk: list[tuple[int, int]]) -> None:
        for child in entity.children:
            parents = [(pk, target_id) for pk, target_id in chunk if child.key in plan.changed_children[target_id]]
            if not parents:
                continue
            child.delete_for([target_id for _pk, target_id in parents])
            child.insert(self.target_tenant, {target_id: plan.children_target[pk][child.key]
                                              for pk, target_id in parents if plan.children_target[pk][child.key]})

    def _delete(self, entity: Entity) -> None:
        key = entity.key
        plan = self.plans[key]
        counts = self.counts[key]
        doomed = sorted(plan.doomed.items())
        for chunk in _chunks(doomed):
            try:
                with self._write():
                    self._delete_chunk(entity, chunk)
                deleted = chunk
            except (ProtectedError, IntegrityError):
                deleted = []
                for item in chunk:  # one at a time, to name the ones that cannot go
                    try:
                        with self._write():
                            self._delete_chunk(entity, [item])
                        deleted.append(item)
                    except (ProtectedError, IntegrityError) as exc:
                        users = getattr(exc, "protected_objects", ())
                        detail = ", ".join(sorted(str(obj) for obj in list(users)[:3]))
                        self.errors.append({"code": "protected", "type": key, "detail": detail,
                                            "name": self._target_name(entity, item[1])})
                        counts.failed += 1
            if key in self.forward:
                for pk, target_id in deleted:
                    self.forward[key].pop(pk, None)
                    self.reverse[key].pop(target_id, None)
            counts.deleted += len(deleted)
            counts.done += len(chunk)
            self._save_progress(key)

    def _delete_chunk(self, entity: Entity, chunk: list[tuple[int, int]]) -> None:
        entity.delete(self.target_tenant, [target_id for _pk, target_id in chunk])
        Correlation.objects.filter(mapping=self.mapping, entity_type=entity.key,
                                   source_id__in=[pk for pk, _t in chunk]).delete()
        failpoint(f"in:{entity.key}:delete")

    def _target_name(self, entity: Entity, target_id: int) -> str:
        values = entity.read(self.target_tenant, [target_id]).get(target_id)
        return entity.describe(values) if values else str(target_id)

    # --- reconciliation ---------------------------------------------------------------------------------

    def _reconcile(self, entity: Entity) -> None:
        """Every primary record that did not fail has exactly one copy, with the same content.

        Counts, in the database: the primary records without a correlation, the correlations whose copy or whose
        primary record is gone. Content: the records this run left alone were compared with their copies in this
        run, when it planned; the ones it wrote are read back now and their hashes compared with the primary's."""
        key = entity.key
        plan = self.plans[key]
        unlinked, orphaned, unsourced = self._reconcile_counts(entity)
        expected = plan.source_ids - plan.failed
        missing = (unlinked | orphaned) & expected
        extra = unsourced - plan.source_ids
        written = sorted((set(plan.creates) | set(plan.updates)) - plan.failed)
        links = self._correlations_of(key, written)
        differing = []
        written = [pk for pk in written if pk in links]
        target_ids = [links[pk] for pk in written]
        target = _pick(entity.read, self.target_tenant, target_ids)
        children = {child.key: _pick(child.read, self.target_tenant, target_ids) for child in entity.children}
        for pk in written:
            target_id = links[pk]
            values = target.get(target_id, _MISSING)
            if values is _MISSING:
                missing.add(pk)
                continue
            digest = content_hash(self._to_source(entity.columns, entity.links, values),
                                  self._children_to_source(entity, children, target_id))
            if digest != plan.hashes[pk]:
                differing.append(pk)
        if missing:
            self.errors.append({"code": "reconcile_missing", "type": key, "count": len(missing),
                                "names": sorted(self._name(key, pk) for pk in missing)[:10]})
        if differing:
            self.errors.append({"code": "reconcile_differs", "type": key, "count": len(differing),
                                "names": sorted(self._name(key, pk) for pk in differing)[:10]})
        undeleted = extra - set(plan.doomed)
        if undeleted:
            self.errors.append({"code": "reconcile_extra", "type": key, "count": len(undeleted)})

    def _reconcile_counts(self, entity: Entity) -> tuple[set[int], set[int], set[int]]:
        """Primary ids: of the records without a correlation, of the correlations whose copy is gone, of the
        correlations whose primary record is gone. One query; only the ids that disagree leave the database."""
        quote = connection.ops.quote_name
        source_sql, source_params = entity.queryset(self.source_tenant).values_list("pk").order_by() \
            .query.sql_with_params()
        target_sql, target_params = entity.queryset(self.target_tenant).values_list("pk").order_by() \
            .query.sql_with_params()
        # Only a quoted table name and the querysets' own SQL go into the text.
        inline = "NOT MATERIALIZED" if connection.vendor == "postgresql" else ""  # the planner sees the tables
        sql = (f"WITH c AS {inline} (SELECT source_id, target_id FROM {quote(Correlation._meta.db_table)} "  # noqa: S608
               f"WHERE mapping_id = %s AND entity_type = %s), s(id) AS {inline} ({source_sql}), "
               f"t(id) AS {inline} ({target_sql}) "
               "SELECT 1, s.id FROM s WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.source_id = s.id) "
               "UNION ALL SELECT 2, c.source_id FROM c WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.id = c.target_id) "
               "UNION ALL SELECT 3, c.source_id FROM c WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.id = c.source_id)")
        found: dict[int, set[int]] = {1: set(), 2: set(), 3: set()}
        with _comparing() as cursor:
            cursor.execute(sql, [self.mapping.pk, entity.key, *source_params, *target_params])
            for kind, pk in cursor.fetchall():
                found[kind].add(pk)
        return found[1], found[2], found[3]

    def _correlations_of(self, key: str, source_ids: list[int]) -> dict[int, int]:
        """primary id -> BCP id of these records, from the correlations as they are now."""
        if not source_ids:
            return {}
        rows = Correlation.objects.filter(mapping=self.mapping, entity_type=key)
        if len(source_ids) <= READ_ALL_ABOVE:
            return dict(rows.filter(source_id__in=source_ids).values_list("source_id", "target_id"))
        wanted = set(source_ids)
        return {source: target for source, target in rows.values_list("source_id", "target_id").iterator(5000)
                if source in wanted}


def entity_keys_for(configuration) -> list[str]:
    if configuration is not None and configuration.custom:
        chosen = set(configuration.entity_types)
        return [key for key in BY_KEY if key in chosen]
    return list(BY_KEY)
