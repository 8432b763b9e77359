"""Change capture at the source: triggers that log every write of a synced table into the change log
(sync.models.Change), in the database of the write, and what a run reads of that log and deletes.

Each registered type's table and each of its children's gets a trigger (PostgreSQL: one plpgsql function per
table; SQLite: one trigger per kind of write), generated from the registry after every `migrate` of a database
(sync/apps.py connects install() to post_migrate), so a type registered later gets its triggers the same way. A row
logs its tenant and the id of its top-level record: a child's parent (found through the child's own lookup, such
as an assignment's agent profile's user) and, for a child with no tenant column, the parent's tenant. The triggers
catch what signals cannot: QuerySet.update(), bulk writes, raw SQL.

The run's own writes on the BCP tenant are not changes to copy back: PostgreSQL's triggers skip a transaction that
set bcp.sync_capture off (the run's writing transactions do); on SQLite the run deletes the rows its writes logged
before it commits (it holds the file's only write lock, so every row logged meanwhile is its own).
"""

from dataclasses import dataclass

from django.db import DatabaseError, connections, router
from django.db.models import Model

from bcp_project.regions import model_placement

from ..models import Change
from . import sql
from .registry import ENTITIES
from .types import Entity

CHUNK = 5000


@dataclass(frozen=True)
class Captured:
    """One table whose writes are logged: as changes of `entity_type`, with these SQL expressions over ROW."""

    model: type[Model]
    entity_type: str
    tenant: str
    record: str

    @property
    def trigger(self) -> str:
        return f"sync_capture_{self.model._meta.db_table}"[:63]


def _path(model: type[Model], lookup: str, row: str, depth: int = 1) -> str:
    """The SQL value of a lookup (`hours_id`, `agent__user_id`, `group__role`) from a row of `model`."""
    name, _sep, rest = lookup.partition("__")
    field = model._meta.get_field(name)
    if not field.is_relation or not field.auto_created:  # a column of this table (a plain field or a foreign key)
        if not rest:
            return f"{row}.{field.column}"
        other, alias = field.related_model, f"sync_m{depth}"
        inner = _path(other, rest, alias, depth + 1)
        return (f"(SELECT {inner} FROM {other._meta.db_table} {alias} "  # noqa: S608
                f"WHERE {alias}.{field.target_field.column} = {row}.{field.column})")
    # A reverse relation (a role's group seen from the group): the row of the other table that points here.
    other, alias = field.related_model, f"sync_m{depth}"
    remote = field.remote_field
    inner = f"{alias}.{other._meta.pk.column}" if not rest else _path(other, rest, alias, depth + 1)
    return (f"(SELECT {inner} FROM {other._meta.db_table} {alias} "  # noqa: S608
            f"WHERE {alias}.{remote.column} = {row}.{remote.target_field.column})")


def captured(entity: Entity) -> list[Captured]:
    """The tables of a type whose writes are logged, with how a row names its tenant and record."""
    model = entity.model
    found = [Captured(model, entity.key, "ROW.tenant_id", f"ROW.{model._meta.pk.column}")]
    for child in entity.children:
        record = _path(child.model, child.parent, "ROW")
        if child.has_tenant:
            tenant = "ROW.tenant_id"
        else:
            if model_placement(child.model) != model_placement(model):
                raise ValueError(f"{child.model._meta.label} has no tenant and its parent lives in another database")
            tenant = (f"(SELECT sync_p.tenant_id FROM {model._meta.db_table} sync_p "  # noqa: S608
                      f"WHERE sync_p.{model._meta.pk.column} = {record})")
        found.append(Captured(child.model, entity.key, tenant, record))
    return found


def tables_on(alias: str) -> list[Captured]:
    """The captured tables that live in database `alias`."""
    return [item for entity in ENTITIES for item in captured(entity)
            if router.allow_migrate_model(alias, item.model)]


def install(using: str, **kwargs) -> None:
    """(Re)creates the capture triggers of every registered table in database `using` (after its migrate)."""
    if not router.allow_migrate_model(using, Change):
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        for item in tables_on(using):
            # A save that only moves updated_at (which the sync does not copy) changes nothing to log.
            compared = [f.column for f in item.model._meta.concrete_fields if f.column != "updated_at"]
            for statement in sql.capture_triggers(vendor=connection.vendor, table=item.model._meta.db_table,
                                                  name=item.trigger, entity_type=item.entity_type,
                                                  tenant=item.tenant, record=item.record, using=using,
                                                  compared=compared):
                cursor.execute(statement)


def missing(using: str) -> list[str]:
    """The tables of database `using` whose capture triggers are not there (a check; should be none)."""
    items = tables_on(using)
    connection = connections[using]
    with connection.cursor() as cursor:
        present = sql.capture_installed(cursor, vendor=connection.vendor, names=[item.trigger for item in items])
    return [item.model._meta.db_table for item in items if item.trigger not in present]


# --- what a run reads and deletes ------------------------------------------------------------------------


class Read:
    """The change-log rows a run read: per database, their ids (to delete once the backup committed)."""

    def __init__(self):
        self.ids: dict[str, list[int]] = {}


def read(alias: str, tenants: list, keys: list[str], found: Read) -> dict[tuple[str, str], set[int]]:
    """{(tenant id as text, type): record ids} logged in database `alias` for these tenants and types; the rows'
    ids kept in `found`. Read inside the run's transaction on that database (its snapshot, for the primary's)."""
    records: dict[tuple[str, str], set[int]] = {}
    ids = found.ids.setdefault(alias, [])
    connection = connections[alias]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for tenant, kind, pks, record_ids in sql.changes_grouped(cursor, tenants, keys):
                ids.extend(pks)
                records[(tenant, kind)] = set(record_ids)
        return records
    rows = (Change.objects.using(alias).filter(tenant_id__in=tenants, entity_type__in=keys)
            .values_list("pk", "tenant_id", "entity_type", "record_id").order_by())
    for pk, tenant, kind, record in rows:
        ids.append(pk)
        records.setdefault((str(tenant), kind), set()).add(record)
    return records


def watermark(alias: str) -> int:
    """SQLite: the highest id of the change log now (rows above it, logged later in the run's transaction, are the
    run's own writes)."""
    return Change.objects.using(alias).order_by("-pk").values_list("pk", flat=True).first() or 0


def forget_own(alias: str, tenant_id: int, above: int) -> None:
    """SQLite, before the run commits: the rows its own writes logged for the BCP tenant, deleted."""
    Change.objects.using(alias).filter(tenant_id=tenant_id, pk__gt=above).delete()


def consume(found: Read) -> list[str]:
    """After the backup committed: the rows the run read, deleted (by id: a row changed again since has a new id
    and stays). Returns the databases where that failed (their rows are read again by the next run, which finds
    nothing to write for them)."""
    failed = []
    for alias, ids in found.ids.items():
        if not ids:
            continue
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                sql.changes_delete(cursor, ids, vendor=connection.vendor)
        except DatabaseError:
            failed.append(alias)
    return failed


def log_again(alias: str, tenant_id, entity_type: str, record_ids: set[int]) -> None:
    """Records a run could not finish, logged again (a row already there, from a newer change, stays)."""
    try:
        Change.objects.using(alias).bulk_create(
            [Change(tenant_id=tenant_id, entity_type=entity_type, record_id=pk) for pk in sorted(record_ids)],
            ignore_conflicts=True, batch_size=CHUNK)
    except DatabaseError:
        pass  # its region went away: the digest finds these records again


def tenants_with_changes(alias: str) -> set:
    """The tenants with changes logged and not yet read by a run, in database `alias` (a region or the control
    plane): primaries whose pair has work, and BCP tenants whose copies were changed."""
    return set(Change.objects.using(alias).values_list("tenant_id", flat=True).distinct().order_by())
