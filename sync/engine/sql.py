"""Every SQL string of the sync engine, and nothing else: the rest of the engine speaks the ORM or calls these.

Only names quoted from the models' metadata, aliases made here and the querysets' own compiled SQL go into
the text; every value is a parameter. A reviewer checking the engine's SQL reads this file alone.
"""

from contextlib import contextmanager

from django.db import connections

CAPTURE_OFF = "bcp.sync_capture"  # PostgreSQL: a setting the run's own transactions set, so that its writes log nothing
# PostgreSQL, the run's transactions: the data is in memory or on SSD. At the default 4 the planner answered "these 700
# of 26,000" with a sequential scan and a hash join.
RANDOM_PAGE_COST = "1.1"


def _quote(name: str, using: str) -> str:
    return connections[using].ops.quote_name(name)


# --- bulk writes ---------------------------------------------------------------------------------------


def insert(table: str, columns: list[str], *, rows: int, returning_column: str | None, using: str) -> str:
    """A multi-row INSERT of `rows` rows of `columns`, returning `returning_column` when one is given."""
    per_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    returning = f" RETURNING {_quote(returning_column, using)}" if returning_column else ""
    return (f"INSERT INTO {_quote(table, using)} ({', '.join(_quote(c, using) for c in columns)}) "  # noqa: S608
            f"VALUES {', '.join([per_row] * rows)}{returning}")


def next_ids(cursor, table: str, pk: str, count: int, *, using: str) -> list[int]:
    """PostgreSQL: `count` ids taken from the table's sequence."""
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                   [_quote(table, using), pk, count])
    return [row[0] for row in cursor.fetchall()]


def copy_into(table: str, columns: list[str], *, using: str) -> str:
    """PostgreSQL: COPY rows of `columns` into `table` from the client."""
    return f"COPY {_quote(table, using)} ({', '.join(_quote(c, using) for c in columns)}) FROM STDIN"


@contextmanager
def staging(cursor, table: str, pk: str, columns: list[str], *, using: str):
    """PostgreSQL: a temporary table of `table`'s key and `columns` (same types), yielding its COPY statement;
    leaving the block sets every row of `table` found there to its staged values, then drops it."""
    table, pk = _quote(table, using), _quote(pk, using)
    names = ", ".join(_quote(c, using) for c in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE sync_staging AS SELECT {pk}, {names} FROM {table} WITH NO DATA")  # noqa: S608
    yield f"COPY sync_staging ({pk}, {names}) FROM STDIN"
    assignments = ", ".join(f"{_quote(c, using)} = s.{_quote(c, using)}" for c in columns)
    cursor.execute(f"UPDATE {table} SET {assignments} FROM sync_staging s WHERE {table}.{pk} = s.{pk}")  # noqa: S608
    cursor.execute("DROP TABLE sync_staging")


def array(values: list):
    """PostgreSQL: the parameter of an array of ints, strings, booleans or NULLs, as the text of an array literal
    (`{1,2,"a\\"b",NULL}`), which the server casts to the column's array type. Sent as one string, it costs a
    fraction of what the driver spends quoting a list element by element (700 strings: 0.4 ms against 2 ms). Other
    values (dates, times) are left as the list they are."""
    kinds = set(map(type, values))
    if kinds <= {int}:
        return "{" + ",".join(map(str, values)) + "}"
    if kinds <= {str}:  # one pass over the joined text (no text value holds a NUL, which PostgreSQL refuses)
        joined = "\0".join(values).replace("\\", "\\\\").replace('"', '\\"').replace("\0", '","')
        return '{"' + joined + '"}' if values else "{}"
    if not kinds <= {int, str, bool, type(None)}:
        return values
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif value is True or value is False:
            parts.append("t" if value else "f")
        elif isinstance(value, int):
            parts.append(str(int(value)))
        else:
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def update_from_arrays(cursor, table: str, pk: str, columns: list[tuple[str, str]], key_type: str,
                       arrays: list[list], *, using: str, where: dict | None = None) -> None:
    """PostgreSQL: one UPDATE setting `columns` ((name, SQL type)) of the rows whose key column `pk` is in
    arrays[0], from one array parameter per column (unnest): as many parameters however many rows. A column with
    the same value in every row (a time stamp) is sent once, as that value. `where` ({column: value}) narrows the
    rows to those with these values too."""
    table_q, pk_q = _quote(table, using), _quote(pk, using)
    keys, *arrays = arrays
    constant = [len(values) > 1 and all(value == values[0] for value in values) for values in arrays]
    varying = [(column, values) for column, values, same in zip(columns, arrays, constant, strict=True) if not same]
    arrays_sql = ", ".join(f"%s::{kind}[]" for kind in [key_type] + [kind for (_name, kind), _v in varying])
    assignments = ", ".join(
        f"{_quote(name, using)} = %s::{kind}" if same else f"{_quote(name, using)} = v.{_quote(name, using)}"
        for (name, kind), same in zip(columns, constant, strict=True))
    narrower = "".join(f" AND {table_q}.{_quote(column, using)} = %s" for column in where or {})
    names = ", ".join(["sync_key"] + [_quote(name, using) for (name, _kind), _v in varying])
    cursor.execute(f"UPDATE {table_q} SET {assignments} FROM unnest({arrays_sql}) "  # noqa: S608
                   f"AS v({names}) WHERE {table_q}.{pk_q} = v.sync_key{narrower}",
                   [*(values[0] for values, same in zip(arrays, constant, strict=True) if same),
                    *(array(values) for values in [keys] + [values for _c, values in varying]),
                    *(where or {}).values()])


def analyze(tables: list[str], *, using: str) -> None:
    """PostgreSQL: fresh statistics for these tables."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(_quote(table, using) for table in tables)}")


# --- the run's transactions (snapshot.py) ------------------------------------------------------------


def begin(cursor, *, statement_timeout_ms: int, idle_timeout_ms: int, capture: bool = True, snapshot: bool = False,
          read_only: bool = False, clock: bool = False, writer_lock: int | None = None) -> tuple:
    """PostgreSQL, the first round trip of a run's transaction on a database, before any other statement of it:
    - with `snapshot`, one snapshot for all of the transaction (REPEATABLE READ; READ ONLY with `read_only`);
    - deadlines, so that a run stuck on a dead peer ends itself instead of holding locks: each statement ends after
      statement_timeout_ms, and the server ends the session when it waits idle in the transaction for
      idle_timeout_ms (its worker lost or stuck), its locks with it;
    - without `capture`, the transaction's writes log no changes (capture.py);
    - with `clock`, the database's clock as the snapshot was taken (this SELECT is what takes it);
    - with `writer_lock` (a pair's id), the transaction-scoped advisory lock that makes one run at a time the
      writer of that pair, if no other run holds it.
    Returns (the clock or None, whether the lock was taken or None)."""
    columns = ["set_config('statement_timeout', %s, true)",
               "set_config('idle_in_transaction_session_timeout', %s, true)", "set_config(%s, %s, true)",
               "set_config('random_page_cost', %s, true)"]
    params = [str(statement_timeout_ms), str(idle_timeout_ms), CAPTURE_OFF, "on" if capture else "off",
              RANDOM_PAGE_COST]
    if clock:
        columns.append("clock_timestamp()")
    if writer_lock is not None:
        columns.append("pg_try_advisory_xact_lock(%s, %s)")
        params += [0x5EC, writer_lock]
    statement = f"SELECT {', '.join(columns)}"
    if snapshot:  # the client-side cursor sends both in one message; the first result is the SET's (none)
        statement = ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ" + (", READ ONLY" if read_only else "") +
                     "; " + statement)
    cursor.execute(statement, params)
    if snapshot:
        cursor.nextset()
    row = cursor.fetchone()
    return (row[4] if clock else None), (bool(row[-1]) if writer_lock is not None else None)


def clock(cursor) -> None:
    """SQLite: a read of the schema, which starts the read transaction's snapshot."""
    cursor.execute("SELECT count(*) FROM sqlite_master")
    cursor.fetchone()


def progress_write(cursor, *, run_id: int, counts: str, current_type: str, heartbeat_at) -> None:
    """PostgreSQL, on the progress connection: a running run's counts (JSON text), current type and heartbeat."""
    cursor.execute("UPDATE sync_syncrun SET counts = %s::jsonb, current_type = %s, heartbeat_at = %s WHERE id = %s",
                   [counts, current_type, heartbeat_at, run_id])


# --- the change log's triggers (capture.py) --------------------------------------------------------------



def capture_triggers(*, vendor: str, table: str, name: str, entity_type: str, tenant: str, record: str,
                     using: str, compared: list[str] | None = None) -> list[str]:
    """The statements that (re)create the triggers logging every INSERT, UPDATE and DELETE of `table` into the
    change log. `tenant` and `record` are SQL expressions over a row named ROW (NEW or OLD): the tenant and the
    top-level record id the row belongs to. A row whose tenant or record is NULL (a staff user, a group that is
    not a role's) logs nothing; on PostgreSQL, neither does an UPDATE that leaves the columns `compared` (every
    column when None) as they were. `name` is the triggers' own (unique per table; PostgreSQL adds `name`_u for
    updates)."""
    table_q, log = _quote(table, using), _quote("sync_change", using)

    def values(row: str) -> tuple[str, str]:
        return tenant.replace("ROW.", f"{row}."), record.replace("ROW.", f"{row}.")

    kind = entity_type.replace("'", "''")
    if vendor == "postgresql":
        def log_row(row: str) -> str:
            tenant_sql, record_sql = values(row)
            return (f"INSERT INTO {log} (tenant_id, entity_type, record_id) SELECT t, '{kind}', r "  # noqa: S608
                    f"FROM (SELECT ({tenant_sql}) AS t, ({record_sql}) AS r) AS s "
                    "WHERE t IS NOT NULL AND r IS NOT NULL "
                    "ON CONFLICT (tenant_id, entity_type, record_id) DO UPDATE "
                    f"SET id = nextval(pg_get_serial_sequence('{log}', 'id'));")

        new_tenant, new_record = values("NEW")
        old_tenant, old_record = values("OLD")
        body = (f"BEGIN IF current_setting('{CAPTURE_OFF}', true) = 'off' THEN RETURN NULL; END IF; "
                f"IF TG_OP = 'DELETE' THEN {log_row('OLD')} RETURN NULL; END IF; "
                f"{log_row('NEW')} "
                f"IF TG_OP = 'UPDATE' AND ((({old_tenant}), ({old_record})) IS DISTINCT FROM "
                f"(({new_tenant}), ({new_record}))) THEN {log_row('OLD')} END IF; "
                "RETURN NULL; END;")
        capturing = f"current_setting('{CAPTURE_OFF}', true) IS DISTINCT FROM 'off'"
        if compared is None:
            changed = "OLD.* IS DISTINCT FROM NEW.*"
        else:
            names = [_quote(column, using) for column in compared]
            changed = (f"({', '.join(f'OLD.{n}' for n in names)}) IS DISTINCT FROM "
                       f"({', '.join(f'NEW.{n}' for n in names)})")
        return [f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $sync$ {body} $sync$",
                f"DROP TRIGGER IF EXISTS {name} ON {table_q}",
                f"DROP TRIGGER IF EXISTS {name}_u ON {table_q}",
                # The condition spares the run's own writes even the function's call.
                f"CREATE TRIGGER {name} AFTER INSERT OR DELETE ON {table_q} FOR EACH ROW "
                f"WHEN ({capturing}) EXECUTE FUNCTION {name}()",
                # An UPDATE that leaves the row as it was (a form saved unchanged) logs nothing.
                f"CREATE TRIGGER {name}_u AFTER UPDATE ON {table_q} FOR EACH ROW "
                f"WHEN ({capturing} AND {changed}) EXECUTE FUNCTION {name}()"]

    # SQLite: no conflict clause (an outer INSERT OR IGNORE would override it): the waiting row goes, a new one
    # with a new id comes. One writer at a time, so the two statements cannot interleave with another's.
    def log_row(row: str, where: str = "") -> str:
        tenant_sql, record_sql = values(row)
        key = f"FROM (SELECT ({tenant_sql}) AS t, ({record_sql}) AS r) WHERE t IS NOT NULL AND r IS NOT NULL{where}"
        return (f"DELETE FROM {log} WHERE (tenant_id, entity_type, record_id) IN "  # noqa: S608
                f"(SELECT t, '{kind}', r {key}); "
                f"INSERT INTO {log} (tenant_id, entity_type, record_id) SELECT t, '{kind}', r {key};")

    new_tenant, new_record = values("NEW")
    moved = f" AND NOT (t IS ({new_tenant}) AND r IS ({new_record}))"
    return [f"DROP TRIGGER IF EXISTS {name}_i", f"DROP TRIGGER IF EXISTS {name}_u", f"DROP TRIGGER IF EXISTS {name}_d",
            f"CREATE TRIGGER {name}_i AFTER INSERT ON {table_q} BEGIN {log_row('NEW')} END",
            f"CREATE TRIGGER {name}_u AFTER UPDATE ON {table_q} BEGIN {log_row('NEW')} {log_row('OLD', moved)} END",
            f"CREATE TRIGGER {name}_d AFTER DELETE ON {table_q} BEGIN {log_row('OLD')} END"]


def capture_on(cursor) -> None:
    """PostgreSQL: this transaction's writes log changes again."""
    cursor.execute("SELECT set_config(%s, 'on', true)", [CAPTURE_OFF])


def capture_installed(cursor, *, vendor: str, names: list[str]) -> set[str]:
    """Which of these capture triggers exist in the database (SQLite: those of all three kinds)."""
    if vendor == "postgresql":
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)",
                       [names + [f"{name}_u" for name in names]])
        present = {row[0] for row in cursor.fetchall()}
        return {name for name in names if name in present and f"{name}_u" in present}
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    present = {row[0] for row in cursor.fetchall()}
    return {name for name in names if all(f"{name}_{kind}" in present for kind in "iud")}


def changes_grouped(cursor, tenants: list, keys: list[str]) -> list[tuple[str, str, list[int], list[int]]]:
    """PostgreSQL: the change-log rows of these tenants and types, one row per (tenant, type): (the tenant's id as
    text, the type, the rows' ids, their record ids). A thousand entries come back as a few rows of arrays, which
    the driver reads without making a Python object per entry first."""
    cursor.execute("SELECT tenant_id::text, entity_type, array_agg(id), array_agg(record_id) FROM sync_change "
                   "WHERE tenant_id = ANY(%s::uuid[]) AND entity_type = ANY(%s::varchar[]) GROUP BY 1, 2",
                   [array([str(tenant) for tenant in tenants]), array(list(keys))])
    return cursor.fetchall()


def changes_delete(cursor, ids: list[int], *, vendor: str) -> None:
    """The change-log rows of these ids (the ones a run read) deleted."""
    if vendor == "postgresql":
        cursor.execute("DELETE FROM sync_change WHERE id = ANY(%s::bigint[])", [array(ids)])
        return
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cursor.execute(f"DELETE FROM sync_change WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)  # noqa: S608


# --- digests (digest.py) --------------------------------------------------------------------------------------

DIGEST_BITS = 40  # a row's hash: small enough that a sum over millions of rows fits a 64-bit integer (SQLite's sum)


def digest_rows(rows, *, tag: str, width: int | None, using: str) -> list[tuple[int, int]]:
    """For a values_list queryset whose first column is the record id: (record id, or its range when `width` is
    given, the sum of the hashes of its rows), computed by the database. A row's hash is the first 40 bits of the
    MD5 of its values as text, with `tag` (the table) and the record id. SQLite: sync_digest(), registered on every
    connection (digest.py)."""
    connection = connections[using]
    query, params = rows.query.sql_with_params()
    names = [f"c{index}" for index in range(len(rows._fields))]
    row_hash = _row_hash(names, connection.vendor)
    key = "c0" if width is None else "c0 / %s"
    statement = (f"WITH sync_rows({', '.join(names)}) AS ({query}) "  # noqa: S608
                 f"SELECT {key}, SUM({row_hash}) FROM sync_rows GROUP BY 1")
    arguments = [*params, *([] if width is None else [width]), tag]  # in the order of the text
    with connection.cursor() as cursor:
        cursor.execute(statement, arguments)
        return [(int(k), int(v)) for k, v in cursor.fetchall()]


def _row_hash(names: list[str], vendor: str) -> str:
    """The SQL of a row's hash over the columns `names`, its tag the first parameter (digest_rows)."""
    if vendor == "postgresql":
        text = ", ".join(["%s::text"] + [f"coalesce({name}::text, chr(30))" for name in names])
        return f"('x' || substr(md5(concat_ws(chr(31), {text})), 1, {DIGEST_BITS // 4}))::bit({DIGEST_BITS})::bigint"
    return f"sync_digest({', '.join(['%s'] + names)})"


def rows_hashed(rows, *, tag: str, using: str) -> list[tuple]:
    """The rows of a values_list queryset as it returns them, each with its hash (as digest_rows sums them) as one
    more value at its end, in one statement: a run reads the records the change log names and their digests at
    once. `rows` may be the read compiled already, as (SQL, parameters, number of columns) (prepared.py; its values
    need no converting)."""
    connection = connections[using]
    if isinstance(rows, tuple):
        query, params, width = rows
        compiler = None
    else:
        compiler = rows.query.get_compiler(using=using)
        query, params = compiler.as_sql()
        width = len(rows._fields)
    names = [f"c{index}" for index in range(width)]
    statement = (f"WITH sync_rows({', '.join(names)}) AS ({query}) "  # noqa: S608
                 f"SELECT {', '.join(names)}, {_row_hash(names, connection.vendor)} FROM sync_rows")
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, tag])
        found = cursor.fetchall()
    converters = compiler and compiler.get_converters([column[0] for column in compiler.select[:width]])
    if converters:
        values = compiler.apply_converters([row[:-1] for row in found], converters)
        found = [(*row, hashed[-1]) for row, hashed in zip(values, found, strict=True)]
    return found
