"""Comparing in the database: one query per type compares both tenants inside PostgreSQL and sends only the
records that need work, which are then read with their children. Both tenants in one database."""

from . import sql
from .comparing import Comparer, Plan
from .types import Entity, pick


class SqlComparer(Comparer):
    def compare(self, entity: Entity) -> Plan:
        state = self.state
        query, params = sql.difference(entity, mapping_id=state.mapping.pk, source_tenant=state.source_tenant,
                                       target_tenant=state.target_tenant, full=state.full)
        with sql.comparing() as cursor:
            cursor.execute(query, params)
            differences = cursor.fetchall()
            source_ids = {pk for (pk,) in sql.fetch(cursor, entity.queryset(state.source_tenant)
                                                    .values_list("pk").order_by())}
        creates, updates, stale, doomed, keeps_unique, children_differ = [], {}, [], {}, set(), {}
        for source_id, target_id, source_gone, target_gone, keeps, *differ in differences:
            if target_id is None:
                creates.append(source_id)
            elif source_gone:
                doomed[source_id] = target_id
            elif target_gone:
                stale.append(source_id)
                creates.append(source_id)
            else:
                updates[source_id] = target_id
                children_differ[target_id] = differ
                if keeps:
                    keeps_unique.add(source_id)
        wanted = sorted(set(creates) | set(updates))
        source = pick(entity.read, state.source_tenant, wanted)
        # A record deleted on the primary since the comparison is left to the next run.
        updates = {pk: target_id for pk, target_id in sorted(updates.items()) if pk in source}
        return Plan(
            source=source,
            source_children={child.key: pick(child.read, state.source_tenant, wanted) for child in entity.children},
            source_ids=source_ids,
            creates=sorted(pk for pk in creates if pk in source),
            updates=updates,
            stale=[pk for pk in stale if pk in source],
            keeps_unique=keeps_unique,
            doomed=doomed,
            changed_children={target_id: self.changed_children(entity, children_differ[target_id])
                              for target_id in updates.values()},
        )
