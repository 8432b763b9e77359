"""The bulk writers: many plain rows into a table, or many rows' values by primary key, without building model
instances. The sync writes tens of thousands of rows, and Django's per-object work would cost more than the
database's. PostgreSQL gets COPY, the bulk path it is built for; elsewhere multi-row statements."""

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time

from django.db import connections
from django.db.models import Model
from django.utils import timezone

from . import sql

CHUNK = 2000
_PREPARE = (datetime, date, time, uuid.UUID)


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_rows(model: type[Model], rows: list[dict], *, using: str, returning: bool = True) -> list[int]:
    """Inserts the rows into database `using` and returns their new ids (in order) when `returning`. Fields a row
    does not name get their model default (now() for auto_now fields), as a save would give them."""
    if not rows:
        return []
    connection = connections[using]
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = set(rows[0])
    defaults = {}
    for f in fields:
        if f.attname not in given:
            defaults[f.attname] = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) \
                else f.get_default()
    columns = [f.attname for f in fields]
    if connection.vendor == "postgresql":
        return _copy_rows(model, rows, columns, defaults, returning=returning, using=using)
    by_name = {f.attname: f for f in fields}
    ids: list[int] = []
    for chunk in chunks(rows, max(1, min(CHUNK, 30000 // len(columns)))):
        params = []
        for row in chunk:
            for name in columns:
                value = row[name] if name in row else defaults[name]
                if isinstance(value, _PREPARE):
                    value = by_name[name].get_db_prep_save(value, connection)
                params.append(value)
        statement = sql.insert(model._meta.db_table, columns, rows=len(chunk),
                               returning_column=model._meta.pk.column if returning else None, using=using)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            if returning:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _copy_rows(model, rows: list[dict], columns: list[str], defaults: dict, *, returning: bool,
               using: str) -> list[int]:
    """PostgreSQL: COPY, with ids taken from the table's sequence first (COPY returns nothing), so that the
    correlations can be written in the same transaction."""
    table, pk = model._meta.db_table, model._meta.pk.column
    ids: list[int] = []
    with connections[using].cursor() as cursor:
        if returning:
            ids = sql.next_ids(cursor, table, pk, len(rows), using=using)
        with cursor.cursor.copy(sql.copy_into(table, ([pk] if returning else []) + columns, using=using)) as copy:
            for index, row in enumerate(rows):
                values = [row[name] if name in row else defaults[name] for name in columns]
                copy.write_row([ids[index], *values] if returning else values)
    return ids


# Up to this many rows an update sends its values as one array per column; more go through COPY.
ARRAYS_UP_TO = 5000


def _array_types(model: type[Model], columns: list[str], connection) -> list[tuple[str, str]] | None:
    """(column, SQL type) of the key and the columns, or None when one of them has no plain array type (JSON)."""
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    found = [(model._meta.pk.column, model._meta.pk.rel_db_type(connection))]
    for name in columns:
        f = by_name[name]
        kind = f.db_type(connection)
        if kind is None or "json" in kind:
            return None
        found.append((f.column, kind))
    return found


def update_by(model: type[Model], key: str, rows: dict, *, where: dict, using: str) -> None:
    """Sets each row's values by another unique column `key` (with `where`, {column: value}, completing the
    unique key): on PostgreSQL one UPDATE … FROM unnest(…) for a batch of up to ARRAYS_UP_TO rows, without
    reading their primary keys first; elsewhere, or for more rows, the keys are read and update_rows sets them."""
    if not rows:
        return
    connection = connections[using]
    columns = list(next(iter(rows.values())))
    types = _array_types(model, columns, connection) if connection.vendor == "postgresql" else None
    if types is not None and len(rows) <= ARRAYS_UP_TO:
        by_name = {f.attname: f for f in model._meta.concrete_fields}
        keys = list(rows)
        with connection.cursor() as cursor:
            sql.update_from_arrays(cursor, model._meta.db_table, by_name[key].column, types[1:],
                                   by_name[key].db_type(connection), [keys, *([rows[k][c] for k in keys]
                                                                             for c in columns)],
                                   using=using, where={by_name[name].column: value for name, value in where.items()})
        return
    found = model._base_manager.using(using).filter(**where, **{f"{key}__sync_in": frozenset(rows)})
    found = found.values_list("pk", key)
    update_rows(model, {pk: rows[value] for pk, value in found}, using=using)


def update_rows(model: type[Model], rows: dict[int, dict], *, using: str) -> None:
    """Sets each row's values by primary key. PostgreSQL: COPY into a temporary table of the same column types,
    then one UPDATE … FROM it; elsewhere Django's bulk_update. An `updated_at` column gets now()."""
    if not rows:
        return
    columns = list(next(iter(rows.values())))
    stamped = any(f.attname == "updated_at" for f in model._meta.concrete_fields)
    connection = connections[using]
    now = timezone.now()
    types = (_array_types(model, columns + ["updated_at"] if stamped else columns, connection)
             if connection.vendor == "postgresql" else None)
    if len(rows) <= ARRAYS_UP_TO and types is not None:
        keys, values = list(rows), list(rows.values())
        arrays = [keys, *([row[c] for row in values] for c in columns)]
        if stamped:  # the same value in every row: sent once (update_from_arrays)
            arrays.append([now] * len(keys))
        with connection.cursor() as cursor:
            sql.update_from_arrays(cursor, model._meta.db_table, model._meta.pk.column, types[1:], types[0][1],
                                   arrays, using=using)
        return
    if stamped:
        rows = {pk: {**values, "updated_at": now} for pk, values in rows.items()}
        columns.append("updated_at")
    if connection.vendor != "postgresql":
        objects = [model(pk=pk, **values) for pk, values in rows.items()]
        model._base_manager.using(using).bulk_update(objects, columns, batch_size=500)
        return
    with connection.cursor() as cursor, \
            sql.staging(cursor, model._meta.db_table, model._meta.pk.column, columns, using=using) as statement, \
            cursor.cursor.copy(statement) as copy:
        for key, values in rows.items():
            copy.write_row([key, *(values[c] for c in columns)])
