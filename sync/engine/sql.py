"""Every SQL string of the sync engine, and nothing else: the rest of the engine speaks the ORM or calls these.

Only names quoted from the models' metadata, aliases made here and the querysets' own compiled SQL go into
the text; every value is a parameter. A reviewer checking the engine's SQL reads this file alone.
"""

from contextlib import contextmanager

from django.db import connection, transaction

from ..models import Correlation


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _compiled(queryset) -> tuple[str, tuple]:
    return queryset.query.sql_with_params()


# --- bulk writes ---------------------------------------------------------------------------------------


def insert(table: str, columns: list[str], *, rows: int, returning_column: str | None) -> str:
    """A multi-row INSERT of `rows` rows of `columns`, returning `returning_column` when one is given."""
    per_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    returning = f" RETURNING {_quote(returning_column)}" if returning_column else ""
    return (f"INSERT INTO {_quote(table)} ({', '.join(_quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES {', '.join([per_row] * rows)}{returning}")


def next_ids(cursor, table: str, pk: str, count: int) -> list[int]:
    """PostgreSQL: `count` ids taken from the table's sequence."""
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                   [_quote(table), pk, count])
    return [row[0] for row in cursor.fetchall()]


def copy_into(table: str, columns: list[str]) -> str:
    """PostgreSQL: COPY rows of `columns` into `table` from the client."""
    return f"COPY {_quote(table)} ({', '.join(_quote(c) for c in columns)}) FROM STDIN"


@contextmanager
def staging(cursor, table: str, pk: str, columns: list[str]):
    """PostgreSQL: a temporary table of `table`'s key and `columns` (same types), yielding its COPY statement;
    leaving the block sets every row of `table` found there to its staged values, then drops it."""
    table, pk = _quote(table), _quote(pk)
    names = ", ".join(_quote(c) for c in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE sync_staging AS SELECT {pk}, {names} FROM {table} WITH NO DATA")  # noqa: S608
    yield f"COPY sync_staging ({pk}, {names}) FROM STDIN"
    assignments = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in columns)
    cursor.execute(f"UPDATE {table} SET {assignments} FROM sync_staging s WHERE {table}.{pk} = s.{pk}")  # noqa: S608
    cursor.execute("DROP TABLE sync_staging")


def analyze(tables: list[str]) -> None:
    """PostgreSQL: fresh statistics for these tables."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(_quote(table) for table in tables)}")


# --- comparing -----------------------------------------------------------------------------------------


@contextmanager
def comparing():
    """A cursor in a transaction of its own (one snapshot) for the comparing queries. On PostgreSQL, with no JIT
    and no parallel workers: for joins of some ten thousand rows both cost more to start than they save."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield cursor


def fetch(cursor, queryset) -> list[tuple]:
    """A queryset's rows read through this cursor (inside the comparing transaction's snapshot)."""
    cursor.execute(*_compiled(queryset))
    return cursor.fetchall()


def difference(entity, *, mapping_id: int, source_tenant, target_tenant, full: bool) -> tuple[str, list]:
    """One query for a type (`entity`, a registered type): (primary id, BCP id, primary record gone, copy gone,
    copy has the unique values, then for each child whether its rows differ) for every correlated pair whose copy
    is missing, gone from the primary, or differs (its columns, links expressed in primary ids through the
    correlations, or the multiset of any of its children's rows), and (primary id, NULL, false, true, ...) for
    every primary record without a correlation. With `full` every pair is listed. PostgreSQL only, and both
    tenants in this one database."""
    correlations = _quote(Correlation._meta.db_table)
    params: list = []

    def subquery(queryset) -> str:
        sql, sql_params = _compiled(queryset)
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
            params.extend([mapping_id, kind])
            joins.append(f"LEFT JOIN {correlations} {alias} ON {alias}.mapping_id = %s "
                         f"AND {alias}.entity_type = %s AND {alias}.target_id = {table}.c{index}")
            expressions.append(f"CASE WHEN {table}.c{index} IS NULL THEN NULL "
                               f"ELSE COALESCE({alias}.source_id, -1) END")
        return expressions, " ".join(joins)

    def names(first: str, count: int) -> str:
        return ", ".join([first, *(f"c{index}" for index in range(count))])

    params.extend([mapping_id, entity.key])
    # NOT MATERIALIZED: the planner sees through to the tables, their statistics and their keys.
    ctes = [f"c AS NOT MATERIALIZED (SELECT source_id, target_id FROM {correlations} "  # noqa: S608
            "WHERE mapping_id = %s AND entity_type = %s)"]
    width = len(entity.columns)
    ctes.append(f"s({names('id', width)}) AS NOT MATERIALIZED ({subquery(entity.rows(source_tenant))})")
    ctes.append(f"t({names('id', width)}) AS NOT MATERIALIZED ({subquery(entity.rows(target_tenant))})")
    for number, child in enumerate(entity.children):
        width_child = len(child.columns)
        columns = names("p", width_child)
        ctes.append(f"cs{number}({columns}) AS NOT MATERIALIZED ({subquery(child.rows(source_tenant))})")
        ctes.append(f"ct{number}({columns}) AS NOT MATERIALIZED ({subquery(child.rows(target_tenant))})")
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
    if full:
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
    sql = (f"WITH {', '.join(ctes)} SELECT {selected} FROM c "  # noqa: S608
           f"FULL JOIN s ON s.id = c.source_id LEFT JOIN t ON t.id = c.target_id {joins} "
           f"WHERE c.source_id IS NULL OR s.id IS NULL OR t.id IS NULL OR {' OR '.join(differs or ['FALSE'])}")
    return sql, params


# --- reconciliation ------------------------------------------------------------------------------------


def unreconciled(*, mapping_id: int, key: str, source_ids, target_ids) -> tuple[str, list]:
    """One query over a type's correlations and the querysets of both tenants' ids: (1, primary id) for a
    primary record without a correlation, (2, primary id) for a correlation whose copy is gone, (3, primary id)
    for a correlation whose primary record is gone."""
    source_sql, source_params = _compiled(source_ids)
    target_sql, target_params = _compiled(target_ids)
    inline = "NOT MATERIALIZED" if connection.vendor == "postgresql" else ""  # the planner sees the tables
    sql = (f"WITH c AS {inline} (SELECT source_id, target_id FROM {_quote(Correlation._meta.db_table)} "  # noqa: S608
           f"WHERE mapping_id = %s AND entity_type = %s), s(id) AS {inline} ({source_sql}), "
           f"t(id) AS {inline} ({target_sql}) "
           "SELECT 1, s.id FROM s WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.source_id = s.id) "
           "UNION ALL SELECT 2, c.source_id FROM c WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.id = c.target_id) "
           "UNION ALL SELECT 3, c.source_id FROM c WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.id = c.source_id)")
    return sql, [mapping_id, key, *source_params, *target_params]
