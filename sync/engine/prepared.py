"""The reads a run repeats for every type, compiled by Django once per process and database (PostgreSQL).

A run after a few changes spends about as long having Django build its reads (querysets cloned, lookups resolved,
SQL compiled: 0.3 to 0.6 ms each) as the databases take to answer them. The reads it makes for every type (a type's
rows by id, a child's rows by parent id, correlations by primary id) are compiled once with stand-in values for their
parameters (a tenant, a list of ids, a pair, a type); the places of those values among the compiled parameters are
then filled with each run's own. A read is left to the ORM when its stand-ins are not found exactly once each among
the parameters (a lookup other than sync_in, a value Django transforms), when Django would convert its values after
fetching them (JSON), and on SQLite, whose IN list makes the SQL text depend on the number of ids.
"""

import uuid
from collections.abc import Callable

from django.db import connections

from . import sql

# Stand-ins no real value equals: a tenant (its uuid), a list of ids (sync_in sends them as one array literal), a pair,
# a type's key.
_STAND_INS = {
    "tenant": uuid.UUID("5ec0a11c-0000-4000-8000-00000000b0c5"),
    "ids": frozenset({-7_919_310_551}),
    "mapping": -7_919_310_552,
    "kind": "~sync~stand-in~kind~",
}


def _prepared(name: str, value):
    """A value as Django passes it among a compiled query's parameters (PostgreSQL)."""
    if name == "tenant":
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    if name == "ids":
        return sql.array(list(value))
    if name == "mapping":
        return int(value)
    return str(value)


class Read:
    """A read built by `build(using, **values)` (a values_list queryset on database `using`, of the named values
    `tenant`, `ids`, `mapping`, `kind`), run with each call's values."""

    def __init__(self, build: Callable):
        self.build = build
        self._compiled: dict[str, tuple | None] = {}

    def statement(self, alias: str, **values) -> tuple[str, list, int] | None:
        """(SQL, parameters, number of columns) of the read with these values on database `alias`, or None: the
        caller runs build(alias, **values) through the ORM."""
        connection = connections[alias]
        if connection.vendor != "postgresql":
            return None
        compiled = self._compiled.get(alias, False)
        if compiled is False:
            compiled = self._compiled[alias] = self._compile(alias, sorted(values))
        if compiled is None:
            return None
        text, template, slots, width = compiled
        params = list(template)
        for index, name in slots:
            params[index] = _prepared(name, values[name])
        return text, params, width

    def rows(self, alias: str, **values) -> list[tuple]:
        """The rows the read returns, as the queryset would (tuples)."""
        found = self.statement(alias, **values)
        if found is None:
            return list(self.build(alias, **values))
        text, params, _width = found
        with connections[alias].cursor() as cursor:
            cursor.execute(text, params)
            return cursor.fetchall()

    def _compile(self, alias: str, names: list[str]) -> tuple | None:
        queryset = self.build(alias, **{name: _STAND_INS[name] for name in names})
        compiler = queryset.query.get_compiler(using=alias)
        text, params = compiler.as_sql()
        if compiler.get_converters([column for column, _sql, _alias in compiler.select]):
            return None
        forms = {name: _prepared(name, _STAND_INS[name]) for name in names}
        slots = [(index, name) for index, param in enumerate(params) for name, form in forms.items()
                 if type(param) is type(form) and param == form]
        if {name for _index, name in slots} != set(names):
            return None
        return text, tuple(params), tuple(slots), len(queryset._fields)
