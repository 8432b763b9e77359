"""The shape of a type the sync copies: a top-level `Entity` (one correlation per record) and its `Child` rows.

Each type reads its rows on either tenant as plain tuples ("values") and writes them in bulk. A row's values hold
its links as ids; `links` names the fields that point at another synced type, so that the engine can express them
in primary ids (for hashing and comparing) or BCP ids (for writing). Child rows (opening days, skill assignments
...) have no correlation of their own: they travel with their parent, inside its hash, and are rewritten with it.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Field, ForeignObject, Lookup, Model

from bcp_project.regions import CONTROL, alias_for_tenant, model_placement

from . import sql
from .bulk import chunks, insert_rows, update_rows
from .prepared import Read

# More ids than this are not sent in an IN list: the whole type is read and the rows picked in Python.
READ_ALL_ABOVE = 2000


class InIds(Lookup):
    """`field__sync_in=ids`: on PostgreSQL `= ANY(%s)` with the ids as one array parameter (an IN list of a thousand
    parameters costs more to build and send than the query takes); elsewhere an IN list."""

    lookup_name = "sync_in"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        ids = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*params, sql.array(ids)]
        if not ids:
            return "1 = 0", list(params)
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*params, *ids]


def ids_of(ids) -> frozenset:
    """The value for a sync_in lookup: a set, which Django passes on as it is (a list it walks item by item)."""
    return frozenset(ids)


Field.register_lookup(InIds)
ForeignObject.register_lookup(InIds)


def db_for(model: type[Model], tenant_id) -> str:
    """The database of a tenant's rows of `model`: the control plane's (roles, users, permissions) or the tenant's
    region's. Every read and write of the engine names it, so that each runs on the right connection."""
    return CONTROL if model_placement(model) == "control" else alias_for_tenant(tenant_id)


def pick(read, tenant_id, ids: list[int]) -> dict:
    """read(tenant_id, ids) for a few ids; for many, one read of them all, keeping those asked for."""
    if not ids:
        return {}
    if len(ids) <= READ_ALL_ABOVE:
        return read(tenant_id, ids)
    wanted = set(ids)
    return {pk: rows for pk, rows in read(tenant_id).items() if pk in wanted}


@dataclass(frozen=True)
class Child:
    """Rows that belong to one parent record. `parent` is the lookup from the child to its parent's id."""

    key: str
    model: type[Model]
    parent: str
    fields: tuple[str, ...]
    links: dict[str, str] = field(default_factory=dict)  # field -> entity type it points at
    has_tenant: bool = True
    # Deleting these rows deletes the children after them too (the agent profile takes its assignments).
    cascades: bool = False
    # A service may delete these rows without saving their parent (a permission taken away, a procedure step
    # removed): the continuous mode listens to their deletes too. Others' deletes cost no signal.
    deleted_alone: bool = False
    # How a page heads these rows (the model's plural name when None).
    label: object = None

    @cached_property
    def columns(self) -> tuple[str, ...]:
        return self.fields + tuple(self.links)

    @property
    def heading(self) -> str:
        return str(self.label if self.label is not None else self.model._meta.verbose_name_plural)

    def value_label(self, column: str, value) -> str | None:
        """How a value of `column` is named on a page when the model's field cannot say (a codename), or None."""
        return None

    def rows(self, tenant_id, parent_ids=None, using: str | None = None):
        """(parent id, *columns) of this child's rows on a tenant (in its database, or `using`), as a queryset:
        read() runs it, and the digests are computed over its SQL."""
        rows = self.model._base_manager.using(using or db_for(self.model, tenant_id)).filter(
            **{self._tenant_lookup(): tenant_id})
        if parent_ids is not None:
            rows = rows.filter(**{f"{self.parent}__sync_in": ids_of(parent_ids)})
        return rows.values_list(self.parent, *self.columns).order_by()

    @cached_property
    def by_parents(self) -> Read:
        """rows() of some parents, compiled once (prepared.py)."""
        return Read(lambda using, tenant, ids: self.rows(tenant, ids, using=using))

    def read(self, tenant_id, parent_ids=None) -> dict[int, list[tuple]]:
        result: dict[int, list[tuple]] = defaultdict(list)
        rows = self.rows(tenant_id) if parent_ids is None else self.by_parents.rows(
            db_for(self.model, tenant_id), tenant=tenant_id, ids=ids_of(parent_ids))
        for row in rows:
            result[row[0]].append(row[1:])
        return result

    def _tenant_lookup(self) -> str:
        return "tenant_id" if self.has_tenant else f"{self.parent.rsplit('_id', 1)[0]}__tenant_id"

    def delete_for(self, tenant_id, parent_ids: list[int]) -> None:
        rows = self.model._base_manager.using(db_for(self.model, tenant_id))
        for chunk in chunks(parent_ids):
            rows.filter(**{f"{self.parent}__sync_in": ids_of(chunk)}).delete()

    def write_parent(self, tenant_id, parent_ids: list[int]) -> dict[int, int]:
        """The value of the child's own parent column for each parent id (the same id, mostly)."""
        return {pk: pk for pk in parent_ids}

    def insert(self, tenant_id, rows: dict[int, list[tuple]]) -> None:
        owner = self.write_parent(tenant_id, list(rows))
        attname = self.parent
        objects = []
        for parent_id, children in rows.items():
            for values in children:
                data = dict(zip(self.columns, values, strict=True))
                data[attname] = owner[parent_id]
                if self.has_tenant:
                    data["tenant_id"] = tenant_id
                objects.append(data)
        insert_rows(self.model, objects, returning=False, using=db_for(self.model, tenant_id))


@dataclass(frozen=True)
class Entity:
    """A top-level type with a correlation per record, keyed by its model's ENTITY_TYPE."""

    label: object  # plural, for headings
    item: object  # singular, inside sentences
    model: type[Model]
    fields: tuple[str, ...]
    links: dict[str, str] = field(default_factory=dict)
    children: tuple[Child, ...] = ()
    # Groups of fields unique per tenant (case-insensitive for text): a rename may need a placeholder first.
    unique: tuple[tuple[str, ...], ...] = (("name",),)
    # Values every copy gets on the BCP tenant and never takes from the primary.
    fixed: dict = field(default_factory=dict)
    describe_field: str = "name"
    # A record made on the BCP tenant with the same unique values is taken over instead of refused.
    adopt_by_name: bool = False
    # Unique text fields whose constraint holds a stored key rather than lower(): {field: (key column, the function
    # that makes the key)}. Every write of the field writes the key too.
    unique_keys: dict = field(default_factory=dict)
    # The engine may compare this type inside the database (on PostgreSQL, both tenants in one database): what
    # read() returns, of the type and of its children, is what rows() selects. A type whose read() is more than
    # its rows(), or with a JSON column (no equality in PostgreSQL), says False and is compared in Python.
    compares_in_sql: bool = True
    # When a record of this type was made: the carry-back lists what the BCP tenant made after the switch.
    created_field: str = "created_at"
    # Values a record of the tenant itself gets in place of `fixed` when the carry-back writes it on the primary
    # (a person there is no copy).
    own: dict = field(default_factory=dict)
    # Fields whose values no page shows (a password's hash): the carry-back says only that they differ.
    hidden: frozenset = frozenset()

    @property
    def key(self) -> str:
        return self.model.ENTITY_TYPE

    def fold(self, name: str, value: str) -> str:
        """A unique text value as the database's constraint compares it."""
        keyed = self.unique_keys.get(name)
        return keyed[1](value) if keyed else value.lower()

    @cached_property
    def columns(self) -> tuple[str, ...]:
        return self.fields + tuple(self.links)

    @cached_property
    def _chosen(self) -> dict[frozenset[str], list[tuple[int, str]]]:
        return {}

    @property
    def models(self) -> list[type[Model]]:
        """The models whose rows make up this type: its own and its children's."""
        return [self.model, *(child.model for child in self.children)]

    @property
    def depends_on(self) -> set[str]:
        keys = set(self.links.values())
        for child in self.children:
            keys |= set(child.links.values())
        return keys - {self.key}

    def db(self, tenant_id) -> str:
        return db_for(self.model, tenant_id)

    def queryset(self, tenant_id, using: str | None = None):
        return self.model._base_manager.using(using or self.db(tenant_id)).filter(tenant_id=tenant_id)

    def rows(self, tenant_id, ids=None, using: str | None = None):
        """(id, *columns) of this type's rows on a tenant (in its database, or `using`), as a queryset: read() runs
        it, and the digests are computed over its SQL."""
        rows = self.queryset(tenant_id, using)
        if ids is not None:
            rows = rows.filter(pk__sync_in=ids_of(ids))
        return rows.values_list("pk", *self.columns).order_by()

    @cached_property
    def by_ids(self) -> Read:
        """rows() of some records, compiled once (prepared.py)."""
        return Read(lambda using, tenant, ids: self.rows(tenant, ids, using=using))

    def read(self, tenant_id, ids=None) -> dict[int, tuple]:
        rows = self.rows(tenant_id) if ids is None else self.by_ids.rows(self.db(tenant_id), tenant=tenant_id,
                                                                          ids=ids_of(ids))
        return {row[0]: row[1:] for row in rows}

    def read_children(self, tenant_id, ids=None) -> dict[str, dict[int, list[tuple]]]:
        return {child.key: child.read(tenant_id, ids) for child in self.children}

    def value_label(self, column: str, value) -> str | None:
        """How a value of `column` is named on a page when the model's field cannot say, or None."""
        return None

    def create(self, tenant_id, rows: list[tuple], *, own: bool = False) -> list[int]:
        """New records: copies (with `fixed`), or with `own` records of the tenant itself (with `own`)."""
        return insert_rows(self.model, [{"tenant_id": tenant_id, **(self.own if own else self.fixed),
                                         **dict(zip(self.columns, values, strict=True))} for values in rows],
                           using=self.db(tenant_id))

    def update(self, tenant_id, rows: dict[int, tuple], columns: frozenset[str] | None = None) -> None:
        """Sets these records' values: every column, or only `columns` (the others hold the same values already)."""
        update_rows(self.model, {pk: self.chosen(values, columns) for pk, values in rows.items()},
                    using=self.db(tenant_id))

    def chosen(self, values: tuple, columns: frozenset[str] | None = None) -> dict:
        """{column: value} of a row's values: all of them, or those of `columns`."""
        if columns is None:
            return dict(zip(self.columns, values, strict=True))
        return {name: values[index] for index, name in self._positions_of(columns)}

    def _positions_of(self, columns: frozenset[str]) -> list[tuple[int, str]]:
        """(index, name) of these columns in a row (kept: a run asks for the same few sets row after row)."""
        found = self._chosen.get(columns)
        if found is None:
            found = self._chosen[columns] = [(index, name) for index, name in enumerate(self.columns)
                                             if name in columns]
        return found

    def set_placeholders(self, tenant_id, ids: list[int]) -> None:
        """Moves the unique values of these records out of the way, so that renames can swap names."""
        targets = {group[-1] for group in self.unique}
        objects = [self.model(pk=pk, **{name: f"~sync~{pk}~" for name in targets}) for pk in ids]
        if objects:
            self.model._base_manager.using(self.db(tenant_id)).bulk_update(objects, list(targets), batch_size=500)

    def delete(self, tenant_id, ids: list[int], *, own: bool = False) -> None:
        """Deletes copies, or with `own` records of the tenant itself (the same for most types)."""
        self.queryset(tenant_id).filter(pk__in=ids).delete()

    def mark_copies(self, tenant_id, ids: list[int]) -> None:
        """Records made on the BCP tenant and carried back to the primary are copies of the primary's from now on
        (for most types nothing tells a copy from a record of the tenant's own)."""

    def taken_elsewhere(self, wanted: dict[str, tuple[tuple, set[int]]]) -> set[str]:
        """Of `wanted` ({key: (values, the ids that may hold them)}), the keys whose unique values a record outside
        the tenant holds, for a type unique across tenants (a username). Nothing for most types."""
        return set()

    def describe(self, values: tuple) -> str:
        return str(values[self.columns.index(self.describe_field)])
