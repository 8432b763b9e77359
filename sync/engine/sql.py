"""Every SQL string of the sync engine, and nothing else: the rest of the engine speaks the ORM or calls these.

Only names quoted from the models' metadata, aliases made here and the querysets' own compiled SQL go into
the text; every value is a parameter. A reviewer checking the engine's SQL reads this file alone.
"""

from contextlib import contextmanager

from django.db import connections


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


def analyze(tables: list[str], *, using: str) -> None:
    """PostgreSQL: fresh statistics for these tables."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(_quote(table, using) for table in tables)}")


# --- the run's transactions (snapshot.py) ------------------------------------------------------------


def snapshot_begin(cursor, *, read_only: bool, statement_timeout_ms: int, idle_timeout_ms: int) -> None:
    """PostgreSQL, first statements of a transaction: one snapshot for all of it (REPEATABLE READ), and deadlines
    so that a run stuck on a dead peer ends itself instead of holding locks."""
    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ" + (", READ ONLY" if read_only else ""))
    deadlines(cursor, statement_timeout_ms=statement_timeout_ms, idle_timeout_ms=idle_timeout_ms)


def deadlines(cursor, *, statement_timeout_ms: int, idle_timeout_ms: int) -> None:
    """PostgreSQL: this transaction's statements end after statement_timeout_ms, and the server ends the session
    when it waits idle in the transaction for idle_timeout_ms (its worker lost or stuck): its locks go with it."""
    cursor.execute("SELECT set_config('statement_timeout', %s, true), "
                   "set_config('idle_in_transaction_session_timeout', %s, true)",
                   [str(statement_timeout_ms), str(idle_timeout_ms)])


def clock(cursor, vendor: str):
    """The database's clock now (PostgreSQL: the first statement of a REPEATABLE READ transaction, so its
    snapshot is taken here). SQLite: a read of the schema, which starts the read transaction's snapshot."""
    if vendor == "postgresql":
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM sqlite_master")
    cursor.fetchone()
    return None


def try_writer_lock(cursor, key: int) -> bool:
    """PostgreSQL: the transaction-scoped advisory lock that makes one run at a time the writer of a pair."""
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [0x5ec, key])
    return bool(cursor.fetchone()[0])


def progress_write(cursor, *, run_id: int, counts: str, current_type: str, heartbeat_at) -> None:
    """PostgreSQL, on the progress connection: a running run's counts (JSON text), current type and heartbeat."""
    cursor.execute("UPDATE sync_syncrun SET counts = %s::jsonb, current_type = %s, heartbeat_at = %s WHERE id = %s",
                   [counts, current_type, heartbeat_at, run_id])
