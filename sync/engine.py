"""The one-way copy of a primary tenant's configuration to its BCP tenant.

For each entity type, in dependency order, the engine reads every row on both tenants as plain
tuples, expresses the BCP rows in primary ids through the correlations and compares them with the
primary's: an equal record costs no write (and no hash; written records keep theirs on the correlation).
What differs is written in bulk, in chunks; each chunk writes its rows, their children and their
correlations in one transaction, so a worker killed anywhere leaves either a whole chunk or nothing,
and the next run, which compares again from what is really there, finishes the work. Deletions follow
in reverse order. Afterwards every written type is read back and compared again (reconciliation); a
record that differs fails the run by name.

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
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from tenants.models import BcpMapping

from .entities import BY_KEY, CHUNK, ENTITIES, Entity, _chunks, insert_rows, update_rows
from .models import Correlation, SyncRun

logger = logging.getLogger(__name__)

_MISSING = object()


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
    return (group, tuple(v.lower() if isinstance(v, str) else v for v in (row[name] for name in group)))


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

    source: dict[int, tuple]
    source_children: dict[str, dict[int, list[tuple]]]
    hashes: dict[int, str]
    creates: list[int] = field(default_factory=list)  # source ids
    updates: dict[int, int] = field(default_factory=dict)  # source id -> target id
    adopt: dict[int, int] = field(default_factory=dict)  # source id -> native target id taken over
    stale: list[int] = field(default_factory=list)  # source ids whose copy was deleted on the BCP tenant
    placeholders: set[int] = field(default_factory=set)  # target ids whose unique values must move first
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
        self.forward: dict[str, dict[int, int]] = {}
        self.reverse: dict[str, dict[int, int]] = {}
        self.names: dict[str, dict[int, str]] = {}  # primary names, for messages
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
            correlations = self._load_correlations(key)
            self.forward[key] = {source: target for source, (target, _digest) in correlations.items()}
            self.reverse[key] = {target: source for source, target in self.forward[key].items()}

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
        for entity in ENTITIES:
            for kind in entity.depends_on | {entity.key}:
                self._ensure_maps(kind)
        for entity in self.entities:
            self._save_progress(entity.key)
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
        correlations = self._load_correlations(key)
        source = entity.read(self.source_tenant)
        source_children = entity.read_children(self.source_tenant)
        target = entity.read(self.target_tenant)
        target_children = entity.read_children(self.target_tenant)
        self.names[key] = {pk: entity.describe(values) for pk, values in source.items()}
        # Hashes are made only for the records this run writes (kept on their correlations, compared again when
        # reconciling); an unchanged record is recognised by comparing the rows themselves, which costs less.
        plan = Plan(source=source, source_children=source_children, hashes={})
        correlated_targets = {target_id for target_id, _digest in correlations.values()}

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
            wanted = {child.key: source_children[child.key].get(pk, []) for child in entity.children}
            changed = set()
            cascade = False
            for child in entity.children:
                differs = sorted(wanted[child.key], key=repr) != sorted(children[child.key], key=repr)
                if differs or cascade or self.full:
                    changed.add(child.key)
                    cascade = cascade or child.cascades
            plan.changed_children[target_id] = changed
        plan.doomed = {pk: target_id for pk, (target_id, _digest) in correlations.items() if pk not in source}

        # Links in BCP ids; a record whose link is not on the BCP tenant cannot be written.
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
                self._fail(plan, entity, pk, "missing_link", link_type=kind,
                           link_name=self.names.get(kind, {}).get(missing_id, str(missing_id)))
                continue
            plan.values_target[pk] = values
            plan.children_target[pk] = children

        # Unique values (names, usernames, addresses): a swap needs placeholders; a record made on the
        # BCP tenant with the same value is refused by name (or, for default roles, adopted).
        holders = {}
        for target_id, values in target.items() if plan.creates or plan.updates else ():
            for group in entity.unique:
                holders[_unique_key(entity, group, values)] = target_id
        moving = set(plan.updates.values()) | set(plan.doomed.values())
        for pk in list(plan.creates) + list(plan.updates):
            if pk not in plan.values_target:
                continue
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

    def _fail(self, plan: Plan, entity: Entity, pk: int, code: str, **params) -> None:
        if pk in plan.failed:
            return
        plan.failed.add(pk)
        plan.values_target.pop(pk, None)
        self._error(code, entity, name=self.names[entity.key].get(pk, str(pk)), **params)

    def _upsert(self, entity: Entity) -> None:
        key = entity.key
        plan = self._plan(entity)
        self.plans[key] = plan
        counts = self.counts[key]
        counts.total = len(plan.source) + len(plan.doomed)
        counts.failed = len(plan.failed)
        written = set(plan.creates) | set(plan.updates)
        counts.unchanged = len(plan.source) - len(written | plan.failed)
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
                for pk, target_id in adopted:
                    self.forward[key][pk] = target_id
                    self.reverse[key][target_id] = pk
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
            for pk, target_id in pairs:
                self.forward[key][pk] = target_id
                self.reverse[key][target_id] = pk

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

        The records this run left alone were compared with their copies, read in this run, when it planned;
        the ones it wrote are read back now and compared again."""
        key = entity.key
        plan = self.plans[key]
        correlations = self._load_correlations(key)
        expected = set(plan.source) - plan.failed
        missing = expected - set(correlations)
        extra = set(correlations) - set(plan.source)
        written = [pk for pk in (set(plan.creates) | set(plan.updates)) - plan.failed if pk in correlations]
        self.reverse[key] = {target_id: source_id for source_id, (target_id, _d) in correlations.items()}
        differing = []
        for chunk in _chunks(sorted(written), CHUNK * 5):
            target_ids = [correlations[pk][0] for pk in chunk]
            target = entity.read(self.target_tenant, target_ids)
            children = entity.read_children(self.target_tenant, target_ids)
            for pk in chunk:
                target_id = correlations[pk][0]
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
                                "names": sorted(self.names[key][pk] for pk in missing)[:10]})
        if differing:
            self.errors.append({"code": "reconcile_differs", "type": key, "count": len(differing),
                                "names": sorted(self.names[key][pk] for pk in differing)[:10]})
        undeleted = extra - set(plan.doomed)
        if undeleted:
            self.errors.append({"code": "reconcile_extra", "type": key, "count": len(undeleted)})


def entity_keys_for(configuration) -> list[str]:
    if configuration is not None and configuration.custom:
        chosen = set(configuration.entity_types)
        return [key for key in BY_KEY if key in chosen]
    return list(BY_KEY)
