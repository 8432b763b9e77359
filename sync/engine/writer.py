"""Writing a type's plan to the BCP tenant. Every write of a run is inside the run's transactions (snapshot.py):
one on the backup's region, one on the control plane (the copies of roles and users), which commit together at
the end, after the fence is checked, or not at all. Chunks only bound the size of each bulk statement."""

from contextlib import ExitStack, contextmanager

from django.db import IntegrityError, connections, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from bcp_project.regions import CONTROL

from ..models import Correlation
from . import failpoints, sql
from .bulk import chunks, insert_rows, update_by
from .comparing import Plan
from .state import RunState
from .types import Entity, db_for

# A type that wrote this many records has the statistics of its tables renewed (PostgreSQL).
ANALYZE_AFTER = 1000


class SyncInterrupted(Exception):
    """The fence moved (a switch began) or the BCP tenant became active while the run was going: it rolls back."""


class Writer:
    def __init__(self, state: RunState):
        self.state = state

    @contextmanager
    def _savepoint(self):
        """A savepoint on both databases the run writes: a delete that a record made on the BCP tenant still uses
        is undone alone, and the run goes on."""
        with ExitStack() as stack:
            for alias in dict.fromkeys((self.state.target_alias, CONTROL)):
                stack.enter_context(transaction.atomic(using=alias))
            yield

    # --- creates and updates --------------------------------------------------------------------------

    def upsert(self, entity: Entity, plan: Plan) -> None:
        state, key = self.state, entity.key
        mapping, target_tenant = state.mapping, state.target_tenant
        counts = state.counts[key]
        counts.total = len(plan.source_ids) + len(plan.doomed)
        counts.failed = len(plan.failed)
        written = set(plan.creates) | set(plan.updates)
        counts.unchanged = len(plan.source_ids) - len(written | plan.failed)
        counts.done = counts.unchanged + counts.failed
        state.save_progress(key)
        now = timezone.now()

        if plan.placeholders:
            entity.set_placeholders(target_tenant, sorted(plan.placeholders))

        updates = [(pk, target_id) for pk, target_id in plan.updates.items() if pk not in plan.failed]
        columns = None if plan.changed_columns is None else frozenset(plan.changed_columns)
        for chunk in chunks(updates):
            if columns is None or columns:
                entity.update(target_tenant, {target_id: plan.values_target[pk] for pk, target_id in chunk},
                              columns)
            self._rewrite_children(entity, plan, chunk)
            adopted = [(pk, target_id) for pk, target_id in chunk if pk in plan.adopt]
            Correlation.objects.bulk_create([
                Correlation(mapping=mapping, entity_type=key, source_id=pk, target_id=target_id,
                            content_hash=plan.hashes[pk], digest=plan.digests.get(pk), synced_at=now)
                for pk, target_id in adopted])
            update_by(Correlation, "source_id", {pk: {"content_hash": plan.hashes[pk], "digest": plan.digests.get(pk),
                                                      "synced_at": now} for pk, _t in chunk if pk not in plan.adopt},
                      where={"mapping_id": mapping.pk, "entity_type": key}, using=state.target_alias)
            failpoints.failpoint(f"in:{key}:update")
            state.ids.remember(key, adopted)
            counts.updated += len(chunk)
            counts.done += len(chunk)
            state.save_progress(key)

        creates = [pk for pk in plan.creates if pk not in plan.failed]
        stale = set(plan.stale)
        for chunk in chunks(creates):
            gone = [pk for pk in chunk if pk in stale]
            if gone:
                stale_links = Correlation.objects.filter(mapping=mapping, entity_type=key, source_id__in=gone)
                # A copy gone with its children left behind (a control-plane commit lost after the region's,
                # or rows deleted by hand): its children go before the record is made again.
                orphans = list(stale_links.values_list("target_id", flat=True))
                for child in entity.children:
                    child.delete_for(target_tenant, orphans)
                stale_links.delete()
            new_ids = entity.create(target_tenant, [plan.values_target[pk] for pk in chunk])
            pairs = list(zip(chunk, new_ids, strict=True))
            for child in entity.children:
                rows = {target_id: plan.children_target[pk][child.key] for pk, target_id in pairs}
                child.insert(target_tenant, {target_id: kids for target_id, kids in rows.items() if kids})
            insert_rows(Correlation, [
                {"mapping_id": mapping.pk, "entity_type": key, "source_id": pk, "target_id": target_id,
                 "content_hash": plan.hashes[pk], "digest": plan.digests.get(pk), "synced_at": now}
                for pk, target_id in pairs], returning=False,
                using=state.target_alias)
            failpoints.failpoint(f"in:{key}:create")
            counts.created += len(chunk)
            counts.done += len(chunk)
            state.save_progress(key)
            state.ids.remember(key, pairs)
        update_by(Correlation, "source_id", {pk: {"digest": digest} for pk, digest in plan.refresh.items()},
                  where={"mapping_id": mapping.pk, "entity_type": key}, using=state.target_alias)
        if len(written) >= ANALYZE_AFTER and connections[state.target_alias].vendor == "postgresql":
            # The reads that follow select among tens of thousands of rows; planned on the statistics of an empty
            # table (a first sync) they become nested loops that take minutes instead of milliseconds.
            tables: dict[str, list[str]] = {state.target_alias: [Correlation._meta.db_table]}
            for model in entity.models:
                tables.setdefault(db_for(model, target_tenant), []).append(model._meta.db_table)
            for alias, names in tables.items():
                if connections[alias].vendor == "postgresql":
                    sql.analyze(list(dict.fromkeys(names)), using=alias)

    def _rewrite_children(self, entity: Entity, plan: Plan, chunk: list[tuple[int, int]]) -> None:
        for child in entity.children:
            parents = [(pk, target_id) for pk, target_id in chunk if child.key in plan.changed_children[target_id]]
            if not parents:
                continue
            child.delete_for(self.state.target_tenant, [target_id for _pk, target_id in parents])
            rows = {target_id: plan.children_target[pk][child.key] for pk, target_id in parents}
            child.insert(self.state.target_tenant, {target_id: kids for target_id, kids in rows.items() if kids})

    # --- deletes --------------------------------------------------------------------------------------

    def delete(self, entity: Entity, plan: Plan) -> None:
        state, key = self.state, entity.key
        counts = state.counts[key]
        if plan.doomed:  # a delete may reach the rows of other records (a team's agents, a skill's assignments)
            state.deleted = True
        for chunk in chunks(sorted(plan.doomed.items())):
            try:
                with self._savepoint():
                    self._delete_chunk(entity, chunk)
                deleted = chunk
            except (ProtectedError, IntegrityError):
                deleted = []
                for item in chunk:  # one at a time, to name the ones that cannot go
                    try:
                        with self._savepoint():
                            self._delete_chunk(entity, [item])
                        deleted.append(item)
                    except (ProtectedError, IntegrityError) as exc:
                        users = getattr(exc, "protected_objects", ())
                        detail = ", ".join(sorted(str(obj) for obj in list(users)[:3]))
                        state.errors.append({"code": "protected", "type": key, "detail": detail,
                                             "name": self._target_name(entity, item[1])})
                        state.retry[key].add(item[0])
                        counts.failed += 1
            state.ids.forget(key, deleted)
            counts.deleted += len(deleted)
            counts.done += len(chunk)
            state.save_progress(key)

    def _delete_chunk(self, entity: Entity, chunk: list[tuple[int, int]]) -> None:
        entity.delete(self.state.target_tenant, [target_id for _pk, target_id in chunk])
        Correlation.objects.filter(mapping=self.state.mapping, entity_type=entity.key,
                                   source_id__in=[pk for pk, _t in chunk]).delete()
        failpoints.failpoint(f"in:{entity.key}:delete")

    def _target_name(self, entity: Entity, target_id: int) -> str:
        values = entity.read(self.state.target_tenant, [target_id]).get(target_id)
        return entity.describe(values) if values else str(target_id)
