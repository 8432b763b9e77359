"""Writing a type's plan to the BCP tenant, in chunks: each chunk writes its rows, their children and their
correlations in one transaction, so a worker killed anywhere leaves either a whole chunk or nothing, and the next
run, which compares again from what is really there, finishes the work. Every write transaction is fenced by the
mapping's row lock, so that nothing is written once the BCP tenant is active."""

from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from tenants.models import BcpMapping

from ..models import Correlation
from . import failpoints, sql
from .bulk import chunks, insert_rows, update_rows
from .comparing import Plan
from .state import RunState
from .types import Entity

# A type that wrote this many records has the statistics of its tables renewed (PostgreSQL).
ANALYZE_AFTER = 1000


class SyncInterrupted(Exception):
    """The BCP tenant became active while the run was going: it stops before its next write."""


class Writer:
    def __init__(self, state: RunState):
        self.state = state

    @contextmanager
    def _write(self):
        """One write transaction. It holds the mapping's row lock (locked_for_sync_write) while it writes, and a
        switch takes the stronger locked() on that row: a switch waits for the chunk being written, and the run
        stops before its next chunk once the BCP tenant is active. The two never interleave."""
        with transaction.atomic():
            active = (BcpMapping.objects.locked_for_sync_write().filter(pk=self.state.mapping.pk)
                      .values_list("active_side", flat=True).first())
            if active != BcpMapping.Side.PRIMARY:
                raise SyncInterrupted
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
            with self._write():
                entity.set_placeholders(target_tenant, sorted(plan.placeholders))

        updates = [(pk, target_id) for pk, target_id in plan.updates.items() if pk not in plan.failed]
        for chunk in chunks(updates):
            with self._write():
                entity.update(target_tenant, {target_id: plan.values_target[pk] for pk, target_id in chunk})
                self._rewrite_children(entity, plan, chunk)
                adopted = [(pk, target_id) for pk, target_id in chunk if pk in plan.adopt]
                Correlation.objects.bulk_create([
                    Correlation(mapping=mapping, entity_type=key, source_id=pk, target_id=target_id,
                                content_hash=plan.hashes[pk], synced_at=now) for pk, target_id in adopted])
                existing = Correlation.objects.filter(mapping=mapping, entity_type=key,
                                                      source_id__in=[pk for pk, _t in chunk if pk not in plan.adopt])
                update_rows(Correlation, {correlation_id: {"content_hash": plan.hashes[source_id], "synced_at": now}
                                          for correlation_id, source_id in existing.values_list("pk", "source_id")})
                failpoints.failpoint(f"in:{key}:update")
                state.ids.remember(key, adopted)
                counts.updated += len(chunk)
                counts.done += len(chunk)
                state.save_progress(key)

        creates = [pk for pk in plan.creates if pk not in plan.failed]
        stale = set(plan.stale)
        for chunk in chunks(creates):
            with self._write():
                gone = [pk for pk in chunk if pk in stale]
                if gone:
                    Correlation.objects.filter(mapping=mapping, entity_type=key, source_id__in=gone).delete()
                new_ids = entity.create(target_tenant, [plan.values_target[pk] for pk in chunk])
                pairs = list(zip(chunk, new_ids, strict=True))
                for child in entity.children:
                    rows = {target_id: plan.children_target[pk][child.key] for pk, target_id in pairs}
                    child.insert(target_tenant, {target_id: kids for target_id, kids in rows.items() if kids})
                insert_rows(Correlation, [
                    {"mapping_id": mapping.pk, "entity_type": key, "source_id": pk, "target_id": target_id,
                     "content_hash": plan.hashes[pk], "synced_at": now} for pk, target_id in pairs], returning=False)
                failpoints.failpoint(f"in:{key}:create")
                counts.created += len(chunk)
                counts.done += len(chunk)
                state.save_progress(key)
            state.ids.remember(key, pairs)
        if len(written) >= ANALYZE_AFTER and connection.vendor == "postgresql":
            # The comparing queries join tens of thousands of rows; planned on the statistics of an empty table
            # (a first sync) they become nested loops that take minutes instead of milliseconds.
            sql.analyze(list(dict.fromkeys([*(model._meta.db_table for model in entity.models),
                                            Correlation._meta.db_table])))

    def _rewrite_children(self, entity: Entity, plan: Plan, chunk: list[tuple[int, int]]) -> None:
        for child in entity.children:
            parents = [(pk, target_id) for pk, target_id in chunk if child.key in plan.changed_children[target_id]]
            if not parents:
                continue
            child.delete_for([target_id for _pk, target_id in parents])
            rows = {target_id: plan.children_target[pk][child.key] for pk, target_id in parents}
            child.insert(self.state.target_tenant, {target_id: kids for target_id, kids in rows.items() if kids})

    # --- deletes --------------------------------------------------------------------------------------

    def delete(self, entity: Entity, plan: Plan) -> None:
        state, key = self.state, entity.key
        counts = state.counts[key]
        for chunk in chunks(sorted(plan.doomed.items())):
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
                        state.errors.append({"code": "protected", "type": key, "detail": detail,
                                             "name": self._target_name(entity, item[1])})
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
